/// What the archive needs to act as a user. Stored 0600 in the store; never printed.
public struct Credentials: Codable, Sendable, Hashable {
    public var homeserver: String
    public var userID: String
    public var deviceID: String?
    public var accessToken: String
    public var refreshToken: String?

    public init(homeserver: String, userID: String, deviceID: String?, accessToken: String, refreshToken: String?) {
        self.homeserver = homeserver
        self.userID = userID
        self.deviceID = deviceID
        self.accessToken = accessToken
        self.refreshToken = refreshToken
    }

    enum CodingKeys: String, CodingKey {
        case homeserver
        case userID = "user_id"
        case deviceID = "device_id"
        case accessToken = "access_token"
        case refreshToken = "refresh_token"
    }
}
