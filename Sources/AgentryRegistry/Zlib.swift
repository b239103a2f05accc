import CZlib

/// The one way Agentry drives zlib: a whole input through one call with `Z_FINISH`.
enum Zlib {
    /// Points `stream` at all of `input` and `output` and runs `step` (`inflate` or `deflate`)
    /// once to the end; returns zlib's status. `stream.total_out` says how much was written.
    static func finish(
        _ stream: inout z_stream, input: [UInt8], output: inout [UInt8],
        _ step: (UnsafeMutablePointer<z_stream>, Int32) -> Int32
    ) -> Int32 {
        var input = input
        return input.withUnsafeMutableBufferPointer { inputBuffer in
            output.withUnsafeMutableBufferPointer { outputBuffer in
                stream.next_in = inputBuffer.baseAddress
                stream.avail_in = uInt(inputBuffer.count)
                stream.next_out = outputBuffer.baseAddress
                stream.avail_out = uInt(outputBuffer.count)
                return step(&stream, Z_FINISH)
            }
        }
    }

    /// The CRC-32 of `bytes` (the zip checksum).
    static func crc(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { UInt32(truncatingIfNeeded: crc32(0, $0.baseAddress, uInt($0.count))) }
    }
}
