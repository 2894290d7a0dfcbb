import Hummingbird

/// Gives every error a route throws the API's JSON error envelope. ``APIError`` and Hummingbird's
/// own `HTTPResponseError`s pass through for the router to write; a ``ValidationError`` becomes 422
/// `validation_failed` naming its field; anything else (the database, an encoding failure) is logged
/// and becomes 500 `internal` without details.
package struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The middleware.
    package init() {}

    package func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            throw error
        } catch let error as ValidationError {
            throw APIError.invalid(error.message, field: error.field)
        } catch {
            context.logger.error(
                "request failed", metadata: ["method": "\(request.method)", "path": "\(request.uri.path)", "error": "\(error)"])
            throw APIError.internalError
        }
    }
}
