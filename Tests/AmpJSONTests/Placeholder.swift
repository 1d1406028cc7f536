import Testing
@testable import AmpJSON
