import Testing
@testable import AmpCLI
