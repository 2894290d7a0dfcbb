/// A position in a rule, template or test file: 1-based line and column (columns count characters).
public struct SourcePosition: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The file path as given to the loader.
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column.
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    /// `file:line:col`.
    public var description: String { "\(file):\(line):\(column)" }
}

/// One problem found while loading rules: `file:line:col: message`.
public struct RuleDiagnostic: Error, Sendable, Hashable, CustomStringConvertible {
    /// Where the problem is.
    public var position: SourcePosition
    /// What is wrong, in one line.
    public var message: String

    public init(_ position: SourcePosition, _ message: String) {
        self.position = position
        self.message = message
    }

    /// `file:line:col: message`.
    public var description: String { "\(position): \(message)" }
}

/// Every problem found while loading a rule set (loading does not stop at the first).
public struct RuleLoadErrors: Error, Sendable, Hashable, CustomStringConvertible {
    /// The problems, in file and position order.
    public var diagnostics: [RuleDiagnostic]

    public init(_ diagnostics: [RuleDiagnostic]) {
        self.diagnostics = diagnostics.sorted {
            ($0.position.file, $0.position.line, $0.position.column) < ($1.position.file, $1.position.line, $1.position.column)
        }
    }

    /// One diagnostic per line.
    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}

/// An error with a character offset inside an expression or template text, before it is placed in a file.
public struct OffsetError: Error, Sendable, Hashable {
    /// Character offset from the start of the text (0-based).
    public var offset: Int
    /// What is wrong.
    public var message: String

    public init(_ offset: Int, _ message: String) {
        self.offset = offset
        self.message = message
    }
}

package enum Spelling {
    /// The closest candidate to `word` (edit distance at most 1/3 of its length, at least 2), for "did you mean".
    package static func suggestion(for word: String, among candidates: some Sequence<String>) -> String? {
        let limit = max(2, word.count / 3)
        var best: (String, Int)?
        for candidate in candidates {
            let distance = editDistance(word, candidate)
            if distance <= limit, distance < (best?.1 ?? Int.max) { best = (candidate, distance) }
        }
        return best?.0
    }

    /// ` (did you mean "x"?)` or an empty string.
    package static func hint(for word: String, among candidates: some Sequence<String>) -> String {
        suggestion(for: word, among: candidates).map { " (did you mean \"\($0)\"?)" } ?? ""
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}

/// Several ``OffsetError``s found in one text.
public struct OffsetErrors: Error, Sendable, Hashable {
    /// The errors, in the order found.
    public var errors: [OffsetError]

    public init(_ errors: [OffsetError]) {
        self.errors = errors
    }
}
