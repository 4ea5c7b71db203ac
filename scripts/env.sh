# Sourced by the scripts: puts the toolchain on PATH when it is installed but not there.
if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi
if ! command -v swift >/dev/null 2>&1; then
    echo "Swift 6 is required and swift is not on PATH (see https://swift.org/install)" >&2
    exit 1
fi
