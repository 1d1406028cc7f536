import Testing
@testable import AmpSystem
