import CertWatchCore
import Foundation

/// The JSON of a stored event with its sequence, built from the stored body without decoding and
/// encoding the event again (the dispatcher sends it on every attempt).
enum EventJSON {
    /// The stored `body` of event `eventID` — ``CertWatchEvent/jsonData()`` of the event before it
    /// had a sequence: compact, keys sorted — with `"sequence":N` inserted where sorted keys put
    /// it, between the top-level `id` and `source`. That is byte for byte `jsonData()` of the event
    /// with its sequence. `nil` when the body does not have that shape.
    ///
    /// The top-level `"id":"<eventID>","source":"` is the last occurrence of that text: the keys
    /// after it hold strings, in which every `"` is escaped, and `data` (which may hold objects
    /// with such keys) sorts before `id`.
    static func withSequence(_ body: String, eventID: String, sequence: Int64) -> Data? {
        let bytes = Array(body.utf8)
        let anchor = Array(#""id":"\#(eventID)","#.utf8)
        let next = Array(#""source":""#.utf8)
        guard let start = lastIndex(of: anchor + next, in: bytes) else { return nil }
        let split = start + anchor.count
        var json = Data(capacity: bytes.count + 32)
        json.append(contentsOf: bytes[..<split])
        json.append(contentsOf: #""sequence":\#(sequence),"#.utf8)
        json.append(contentsOf: bytes[split...])
        return json
    }

    /// Where `pattern` last occurs in `bytes`.
    static func lastIndex(of pattern: [UInt8], in bytes: [UInt8]) -> Int? {
        guard !pattern.isEmpty, pattern.count <= bytes.count else { return nil }
        var start = bytes.count - pattern.count
        while start >= 0 {
            if bytes[start] == pattern[0], bytes[start..<start + pattern.count].elementsEqual(pattern) { return start }
            start -= 1
        }
        return nil
    }
}
