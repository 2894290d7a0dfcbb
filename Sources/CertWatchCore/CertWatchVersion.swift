/// certwatch's version: `certwatch --version`, the `user-agent` of webhook and Douyin requests.
public enum CertWatchVersion {
    /// Semantic version of this build.
    public static let current = "0.1.0"
}
