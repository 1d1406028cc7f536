import Testing
@testable import AmpWire
