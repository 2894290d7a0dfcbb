import Foundation

/// The OpenAPI 3.1 description of the HTTP API (`docs/openapi.yaml`, shipped as a resource).
package enum OpenAPIDocument {
    /// The document's text ("" if the resource is missing from the installation).
    package static let text: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let data = try? Data(contentsOf: url)
        else { return "" }
        return String(decoding: data, as: UTF8.self)
    }()
}
