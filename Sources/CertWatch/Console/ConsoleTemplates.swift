import Foundation
import Mustache

/// The console's Mustache templates, stylesheet, script and icon, shipped as the `console` resource
/// folder (`Sources/CertWatch/Resources/console/`) and read once per process.
struct ConsoleTemplates: Sendable {
    /// The templates by file name without `.mustache` (`layout`, `watches`, …).
    let library: MustacheLibrary
    /// The static files served under `/console/assets/` by name (``assetTypes``).
    let assets: [String: Data]

    /// The static files and their content types.
    static let assetTypes: [String: String] = [
        "console.css": "text/css; charset=utf-8", "console.js": "text/javascript; charset=utf-8", "favicon.svg": "image/svg+xml",
    ]

    /// The templates of this installation. Throws ``ConsoleTemplateError`` when the resource folder
    /// is missing or a template does not parse (naming the file).
    static let installed: Result<ConsoleTemplates, ConsoleTemplateError> = {
        guard let folder = Bundle.module.resourceURL?.appendingPathComponent("console"),
            FileManager.default.fileExists(atPath: folder.path)
        else { return .failure(ConsoleTemplateError(message: "the console's resources are missing from this installation")) }
        return Result { () throws(ConsoleTemplateError) in try load(folder: folder) }
    }()

    /// Reads the templates, stylesheet and script from `folder`. Throws ``ConsoleTemplateError``
    /// naming an unreadable file or a template that does not parse.
    static func load(folder: URL) throws(ConsoleTemplateError) -> ConsoleTemplates {
        var templates: [String: MustacheTemplate] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        for name in names where name.hasSuffix(".mustache") {
            let path = folder.appendingPathComponent(name).path
            guard let data = FileManager.default.contents(atPath: path) else {
                throw ConsoleTemplateError(message: "cannot read \(path)")
            }
            do {
                templates[String(name.dropLast(".mustache".count))] = try MustacheTemplate(string: String(decoding: data, as: UTF8.self))
            } catch {
                throw ConsoleTemplateError(message: "\(path): \(error)")
            }
        }
        var assets: [String: Data] = [:]
        for name in assetTypes.keys {
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path) else {
                throw ConsoleTemplateError(message: "\(name) is missing from \(folder.path)")
            }
            assets[name] = data
        }
        return ConsoleTemplates(library: MustacheLibrary(templates: templates), assets: assets)
    }

    /// `template` rendered with `context` (HTML-escaped `{{ }}`). Throws ``ConsoleTemplateError``
    /// for a template that does not exist.
    func render(_ template: String, _ context: Any) throws(ConsoleTemplateError) -> String {
        guard let text = library.render(context, withTemplate: template) else {
            throw ConsoleTemplateError(message: "no console template \(template)")
        }
        return text
    }
}

/// The console's templates cannot be used (missing or broken resources).
struct ConsoleTemplateError: Error, CustomStringConvertible {
    /// What is wrong, naming the file.
    var message: String
    var description: String { message }
}
