extension Duration {
    /// The duration in seconds, with its fraction (`.milliseconds(1500)` → `1.5`). The one conversion
    /// every certwatch module uses for timings, timeouts and clocks.
    package var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }

    /// The duration in whole nanoseconds (truncated towards zero), for APIs that count them
    /// (NIO's `TimeAmount`, metrics timers).
    package var inNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
