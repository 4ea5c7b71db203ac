import Edge

/// The context local under which ``SessionMiddleware`` leaves the ``Session`` of data type `Data`.
public enum SessionLocal<Data: Codable & Sendable>: ContextLocalKey {
    /// The session.
    public typealias Value = Session<Data>
}

extension Context {
    /// The request's session with data of type `Data`.
    /// - Throws: ``SessionError`` ``SessionError/Code/notInstalled`` when no `session()` middleware with this data
    ///   type runs in front of the handler.
    @inlinable
    public func session<Data: Codable & Sendable>(_ type: Data.Type = Data.self) throws -> Session<Data> {
        guard let session = self[local: SessionLocal<Data>.self] else {
            throw SessionError(
                .notInstalled,
                "no session() middleware with data type \(Data.self) runs in front of this handler; add it to the "
                    + "runtime's middleware")
        }
        return session
    }
}
