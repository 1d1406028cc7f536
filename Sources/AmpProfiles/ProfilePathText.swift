// Lexical helpers for POSIX paths held as strings (no file system access): directory of a path, joining,
// making a path absolute and tidying `//` and `/./`. `..` is kept as written, because removing it lexically
// is wrong when the preceding component is a symbolic link.

enum PathText {
    /// The directory part of `path`: "a/b.json" -> "a", "b.json" -> ".", "/b.json" -> "/", "" -> ".".
    static func directory(of path: String) -> String {
        let trimmed = trimmingTrailingSlashes(path)
        guard let slash = trimmed.lastIndex(of: "/") else { return "." }
        let parent = trimmingTrailingSlashes(String(trimmed[..<slash]))
        return parent.isEmpty ? "/" : parent
    }

    /// `name` inside `directory`; an absolute `name` is returned unchanged.
    static func join(_ directory: String, _ name: String) -> String {
        if name.hasPrefix("/") || directory.isEmpty { return name }
        return directory.hasSuffix("/") ? directory + name : directory + "/" + name
    }

    /// `path` made absolute against `currentDirectory` and tidied.
    static func absolute(_ path: String, currentDirectory: String) -> String {
        tidy(join(currentDirectory, path))
    }

    /// Removes empty and `.` components: "/a//b/./c/" -> "/a/b/c". Keeps `..`.
    static func tidy(_ path: String) -> String {
        let isAbsolute = path.hasPrefix("/")
        let components = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        let body = components.joined(separator: "/")
        if isAbsolute { return "/" + body }
        return body.isEmpty ? "." : body
    }

    private static func trimmingTrailingSlashes(_ path: String) -> String {
        var result = Substring(path)
        while result.count > 1, result.hasSuffix("/") { result = result.dropLast() }
        return String(result)
    }
}
