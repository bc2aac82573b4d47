import ArchiveCore
import Crypto
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// An account of a test's own on the test Synapse, registered with the server's shared secret (as
/// `scripts/seed.py` registers the seeded users), so that a test can change its account data (an ignore
/// list) without touching what other tests, running in parallel, read as the seeded users.
struct TestAccount {
    let userID: String
    let password: String
    let sender: TestSender

    static func register(seed: Seed, prefix: String) async throws -> TestAccount {
        guard let path = ProcessInfo.processInfo.environment["MXARCHIVE_TEST_REGISTRATION_SECRET_FILE"],
              let secret = FileManager.default.contents(atPath: path) else {
            throw HarnessError("MXARCHIVE_TEST_REGISTRATION_SECRET_FILE is not set or unreadable: run through scripts/test")
        }
        let localpart = "\(prefix)\(UUID().uuidString.prefix(8).lowercased())"
        let password = UUID().uuidString
        let endpoint = seed.homeserver + "/_synapse/admin/v1/register"
        let key = SymmetricKey(data: Data(String(decoding: secret, as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines).utf8))
        var attempt = 0
        var reply: JSONValue
        while true {
            // Synapse forgets a nonce after 60 s; on a loaded machine (parallel tests, builds) the POST can
            // come later than that, so a forgotten nonce is fetched anew instead of failing the test.
            attempt += 1
            let nonce = try await TestSender.request("GET", endpoint, body: nil, token: nil)["nonce"]?.stringValue ?? ""
            // HMAC-SHA1 over nonce NUL user NUL password NUL notadmin, keyed by the shared secret.
            let message = Data([nonce, localpart, password, "notadmin"].joined(separator: "\u{0}").utf8)
            let mac = HMAC<Insecure.SHA1>.authenticationCode(for: message, using: key)
                .map { String(format: "%02x", $0) }.joined()
            do {
                reply = try await TestSender.post(endpoint, body: [
                    "nonce": .string(nonce), "username": .string(localpart), "password": .string(password),
                    "admin": false, "mac": .string(mac),
                ], token: nil)
                break
            } catch where attempt < 3 && "\(error)".contains("nonce") {
                continue
            }
        }
        let userID = reply["user_id"]?.stringValue ?? ""
        return TestAccount(userID: userID, password: password,
                           sender: TestSender(homeserver: seed.homeserver, token: reply["access_token"]?.stringValue ?? ""))
    }

    /// Creates a private room inviting `others`, who join it.
    func createRoom(with others: [TestAccount]) async throws -> String {
        let reply = try await TestSender.post(sender.homeserver + "/_matrix/client/v3/createRoom", body: [
            "preset": "private_chat", "invite": .array(others.map { .string($0.userID) }),
        ], token: sender.token)
        let roomID = reply["room_id"]?.stringValue ?? ""
        for other in others {
            _ = try await TestSender.post(other.sender.homeserver + "/_matrix/client/v3/join/\(Self.segment(roomID))",
                                          body: [:], token: other.sender.token)
        }
        return roomID
    }

    /// Sets the account's `m.ignored_user_list`: the server then hides those users' messages from it.
    func ignore(_ users: [TestAccount]) async throws {
        var ignored: [String: JSONValue] = [:]
        for user in users { ignored[user.userID] = .object([:]) }
        _ = try await TestSender.request(
            "PUT", sender.homeserver + "/_matrix/client/v3/user/\(Self.segment(userID))/account_data/m.ignored_user_list",
            body: ["ignored_users": .object(ignored)], token: sender.token)
    }

    static func segment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }
}
