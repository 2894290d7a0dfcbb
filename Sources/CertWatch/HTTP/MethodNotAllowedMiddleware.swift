import HTTPTypes
import Hummingbird

/// Answers a request whose path a route serves, but not with the request's method, with 405
/// `method_not_allowed` and an `Allow` header listing the methods that path takes (RFC 9110
/// §15.5.6), instead of the router's 404; a path no route serves stays 404 `not_found`.
///
/// Hummingbird's router answers both cases with 404 (2.28 has no 405), so this middleware is added
/// to the router after every route: the router runs it only around its not-found responder, and it
/// matches the request's path against the routes the router lists (`Router.routes`).
package struct MethodNotAllowedMiddleware<Context: RequestContext>: RouterMiddleware {
    /// Each distinct route path with the methods it answers, in the order they were first seen.
    let routes: [(path: RouterPath, methods: Set<HTTPRequest.Method>)]

    /// A middleware for the routes `routes` (a router's `routes`, read after the last route was added).
    package init(routes: [Router<Context>.RouteDescription]) {
        var paths: [(path: RouterPath, methods: Set<HTTPRequest.Method>)] = []
        for route in routes {
            if let index = paths.firstIndex(where: { $0.path == route.path }) {
                paths[index].methods.insert(route.method)
            } else {
                paths.append((route.path, [route.method]))
            }
        }
        self.routes = paths
    }

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = allowedMethods(path: request.uri.path)
            guard !allowed.isEmpty else {
                throw APIError.notFound("no route \(request.method.rawValue) \(request.uri.path)")
            }
            var methodError = APIError(
                405, "method_not_allowed",
                "\(request.method.rawValue) is not allowed on \(request.uri.path); allowed: \(allowed.joined(separator: ", "))")
            methodError.headers[.allow] = allowed.joined(separator: ", ")
            throw methodError
        }
    }

    /// The methods the route that serves `path` takes, sorted (empty when no route's path matches).
    /// Of several matching routes, the router's choice: literal segments before captures, left to
    /// right (`/v1/watches/batch` is the batch route, not `/v1/watches/{id}`).
    func allowedMethods(path: String) -> [String] {
        let segments = path.split(separator: "/")
        var bestRank: [Int]?
        var methods = Set<HTTPRequest.Method>()
        for route in routes where Self.matches(route.path, segments) {
            // 2 a literal segment, 1 a capture or wildcard, 0 a trailing `**`.
            let rank = route.path.components.map { component in
                component == .recursiveWildcard ? 0 : component == .path(component.description[...]) ? 2 : 1
            }
            if let best = bestRank, !best.lexicographicallyPrecedes(rank) {
                if best == rank { methods.formUnion(route.methods) }
            } else {
                bestRank = rank
                methods = route.methods
            }
        }
        if methods.contains(.get) { methods.insert(.head) }  // HEADResponder answers HEAD as GET
        return methods.map(\.rawValue).sorted()
    }

    /// Whether `segments` (a request path split at `/`) matches the route path `path`: as many
    /// segments as components, each matching its component (a literal, a `{capture}`, a wildcard),
    /// or a trailing `**` taking the rest.
    static func matches(_ path: RouterPath, _ segments: [Substring]) -> Bool {
        let components = path.components.filter { $0 != .null }
        if let last = components.last, last == .recursiveWildcard {
            guard segments.count >= components.count - 1 else { return false }
            return zip(components.dropLast(), segments).allSatisfy { $0 ~= $1 }
        }
        guard components.count == segments.count else { return false }
        return zip(components, segments).allSatisfy { $0 ~= $1 }
    }
}
