/// A member's name as the spec's "Calculating the display name for a user" has clients show it: the
/// display name, with the user id beside it when another member (joined or invited) has the same name at
/// that point, so that nobody can pass for someone else by copying their name; the user id alone when
/// there is no display name (absent, null or empty). Callers still make it safe to print (`DisplayText`).
public enum MemberName {
    public static func label(userID: String, displayName: String?, ambiguous: Bool) -> String {
        guard let displayName, !displayName.isEmpty else { return userID }
        return ambiguous ? "\(displayName) (\(userID))" : displayName
    }
}
