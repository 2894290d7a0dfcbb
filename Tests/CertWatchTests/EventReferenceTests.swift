import CertWatchCore
import Foundation
import Testing

@Suite("Event reference documents")
struct EventReferenceTests {
    @Test("rules/README.md lists exactly the event fields the schema derives, with their types")
    func fieldTable() throws {
        let text = try String(contentsOfFile: repositoryRoot + "/rules/README.md", encoding: .utf8)
        let section = try #require(text.components(separatedBy: "### Event fields").dropFirst().first)
        let table = section.components(separatedBy: "\n#").first ?? section
        let rows = table.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `"), let end = line.dropFirst(3).firstIndex(of: "`") else { return nil }
            let path = line[line.index(line.startIndex, offsetBy: 3)..<end]
            let type = line[line.index(after: end)...].trimmingCharacters(in: CharacterSet(charactersIn: " |"))
            return "\(path) \(type)"
        }
        let derived = EventSchema.paths().map { "\($0.0) \($0.1)" }
        #expect(rows == derived)
    }

    @Test("docs/events.md and rules/README.md name every event type")
    func everyType() throws {
        let events = try String(contentsOfFile: repositoryRoot + "/docs/events.md", encoding: .utf8)
        let rules = try String(contentsOfFile: repositoryRoot + "/rules/README.md", encoding: .utf8)
        for type in EventType.allCases {
            #expect(events.contains("| `\(type.rawValue)` |"), "docs/events.md lacks \(type.rawValue)")
            #expect(rules.contains("`\(type.rawValue)`"), "rules/README.md lacks \(type.rawValue)")
        }
    }
}
