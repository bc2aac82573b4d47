import ArchiveCore
/// A failed Client-Server API call. The message names the step (and room) and the server's error code,
/// never a token or message content.
public struct MatrixError: ReportableError {
    public let step: String
    public let status: Int?
    public let errcode: String?
    public let serverMessage: String?
    public let softLogout: Bool
    /// The reply was larger than the transport reads (64 MiB): a smaller request may get through.
    public let replyTooLarge: Bool

    public init(step: String, status: Int?, errcode: String?, serverMessage: String?, softLogout: Bool = false,
                replyTooLarge: Bool = false) {
        self.step = step
        self.status = status
        self.errcode = errcode
        self.serverMessage = serverMessage
        self.softLogout = softLogout
        self.replyTooLarge = replyTooLarge
    }

    static func replyTooLarge(step: String, status: Int) -> MatrixError {
        MatrixError(step: step, status: status, errcode: nil,
                    serverMessage: "the reply is larger than mxarchive reads in one request", replyTooLarge: true)
    }

    public var description: String {
        var parts = ["\(step) failed"]
        if let status { parts.append("HTTP \(status)") }
        if let errcode { parts.append(errcode) }
        var text = parts.joined(separator: ": ")
        if let serverMessage, !serverMessage.isEmpty { text += " (\(serverMessage.prefix(200)))" }
        if let hint { text += "; \(hint)" }
        return text
    }

    private var hint: String? {
        switch errcode {
        case "M_UNKNOWN_TOKEN", "M_MISSING_TOKEN": return "log in again with `mxarchive login`"
        case "M_FORBIDDEN": return "the account cannot read this room (not joined, or history not visible)"
        case "M_NOT_FOUND": return "no such room or event on this server"
        default: return nil
        }
    }

    /// Credentials, permissions and names the user can fix; anything else is the server's failure.
    public var category: ErrorCategory {
        switch errcode {
        case "M_UNKNOWN_TOKEN", "M_MISSING_TOKEN", "M_FORBIDDEN", "M_NOT_FOUND": .input
        default: .failure
        }
    }

    /// The whole run must stop (credentials are unusable); other errors end only the room in progress.
    public var endsRun: Bool { errcode == "M_UNKNOWN_TOKEN" || errcode == "M_MISSING_TOKEN" || status == 401 }
}
