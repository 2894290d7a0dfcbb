import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The HTTP leg of every Douyin call: one request, a bounded body, failures mapped to
/// ``DouyinAPIError`` of class ``DouyinErrorClass/retry``.
struct DouyinHTTP: Sendable {
    let httpClient: HTTPClient
    let configuration: DouyinClientConfiguration

    /// Makes the process's HTTP client for Douyin calls: connect timeout from `configuration`,
    /// redirects not followed. Shut it down with `shutdown()` when the process ends.
    static func makeHTTPClient(_ configuration: DouyinClientConfiguration) -> HTTPClient {
        var http = HTTPClient.Configuration()
        http.timeout = .init(connect: .init(configuration.connectTimeout), read: .init(configuration.requestTimeout))
        http.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: http)
    }

    /// `baseURL + path` with the query items percent-encoded.
    func url(path: String, query: [(String, String)] = []) -> String {
        var components = URLComponents(string: configuration.baseURL.trimmingSuffix("/") + path)
        if !query.isEmpty {
            components?.queryItems = query.map { URLQueryItem(name: $0.0, value: $0.1) }
            // URLComponents leaves `+` alone, which servers read as a space; encrypted codes are
            // base64 and may contain it.
            let encoded = components?.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B")
            components?.percentEncodedQuery = encoded
        }
        return components?.string ?? configuration.baseURL + path
    }

    /// Sends one request and returns the HTTP status and body.
    /// Throws ``DouyinAPIError`` (class `retry`) on timeout, transport failure, or a body over the cap.
    func send(
        _ method: HTTPMethod, url: String, headers: [(String, String)], body: Data? = nil
    ) async throws(DouyinAPIError) -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: url)
        request.method = method
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "user-agent", value: "certwatch")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        do {
            let response = try await httpClient.execute(request, timeout: .init(configuration.requestTimeout))
            let buffer = try await response.body.collect(upTo: configuration.maxResponseBytes)
            return (Int(response.status.code), Data(buffer.readableBytesView))
        } catch let error as HTTPClientError
            where [.deadlineExceeded, .connectTimeout, .readTimeout].contains(error)
        {
            throw DouyinAPIError(errorClass: .retry, source: .timeout, detail: "\(error)")
        } catch is NIOTooManyBytesError {
            throw DouyinAPIError(
                errorClass: .retry, source: .invalidBody(nil),
                detail: "response body larger than \(configuration.maxResponseBytes) bytes")
        } catch {
            throw DouyinAPIError(errorClass: .retry, source: .transport, detail: "\(error)")
        }
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        self = .nanoseconds(duration.inNanoseconds)
    }
}

extension String {
    func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
