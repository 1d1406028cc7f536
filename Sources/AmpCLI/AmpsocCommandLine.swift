/// Entry point of the `ampsoc` command line.
public enum AmpsocCommandLine {
    /// Runs the command line with `arguments` (without the program name) and returns the exit status.
    public static func main(_ arguments: [String]) -> Int32 { 0 }
}
