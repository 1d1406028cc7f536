import AmpCLI
import Glibc

exit(AmpsocCommandLine.main(Array(CommandLine.arguments.dropFirst())))
