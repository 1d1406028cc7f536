import Testing

@testable import AmpBench

extension BenchTests {
    @Test func medianOfOddAndEvenCounts() {
        #expect(BenchStatistics.median([5, 1, 3]) == 3)
        #expect(BenchStatistics.median([4, 1, 3, 2]) == 2.5)
        #expect(BenchStatistics.median([7]) == 7)
        #expect(BenchStatistics.median([]) == nil)
        #expect(BenchStatistics.median([10, 10, 1, 1000]) == 10)
    }

    @Test func nearestRankPercentiles() {
        let hundred = (1...100).map(Double.init).reversed().map { $0 }
        #expect(BenchStatistics.percentile(99, of: hundred) == 99)
        #expect(BenchStatistics.percentile(100, of: hundred) == 100)
        #expect(BenchStatistics.percentile(50, of: hundred) == 50)
        #expect(BenchStatistics.percentile(1, of: hundred) == 1)
        #expect(BenchStatistics.percentile(0.5, of: hundred) == 1)
        let thousand = (1...1000).map(Double.init)
        #expect(BenchStatistics.percentile(99, of: thousand) == 990)
        #expect(BenchStatistics.percentile(99.9, of: thousand) == 999)
        // Ten samples: rank ceil(9.9) = 10, so p99 is the largest.
        #expect(BenchStatistics.percentile(99, of: [3, 9, 1, 7, 5, 2, 8, 4, 6, 10]) == 10)
        #expect(BenchStatistics.percentile(90, of: [3, 9, 1, 7, 5, 2, 8, 4, 6, 10]) == 9)
        #expect(BenchStatistics.percentile(0, of: thousand) == nil)
        #expect(BenchStatistics.percentile(101, of: thousand) == nil)
        #expect(BenchStatistics.percentile(50, of: []) == nil)
    }

    @Test func latencySummaryFromNanoseconds() throws {
        // 1...200 microseconds, shuffled: median (100 + 101) / 2, p99 = rank 198.
        let samples = (1...200).map { UInt64($0) * 1000 }.shuffled()
        let summary = try #require(LatencySummary(nanoseconds: samples))
        #expect(summary.medianMicroseconds == 100.5)
        #expect(summary.p99Microseconds == 198)
        #expect(summary.minimumMicroseconds == 1)
        #expect(summary.samples == 200)
        #expect(LatencySummary(nanoseconds: []) == nil)
    }

    @Test func throughputSummaryRates() {
        let summary = ThroughputSummary(messages: 500_000, payloadSize: 496, nanoseconds: 250_000_000)
        #expect(summary.seconds == 0.25)
        #expect(summary.messagesPerSecond == 2_000_000)
        #expect(summary.megabytesPerSecond == 992)
        #expect(summary.messages == 500_000)
    }

    @Test func numberFormatting() {
        #expect(BenchFormat.fixed(3.14159, digits: 2) == "3.14")
        #expect(BenchFormat.fixed(2.005, digits: 0) == "2")
        #expect(BenchFormat.fixed(0.05, digits: 3) == "0.050")
        #expect(BenchFormat.fixed(-1.5, digits: 1) == "-1.5")
        #expect(BenchFormat.fixed(-0.001, digits: 2) == "0.00")
        #expect(BenchFormat.fixed(12.999, digits: 2) == "13.00")
        #expect(BenchFormat.fixed(.nan, digits: 2) == "n/a")
        #expect(BenchFormat.rate(1_234_567) == "1.23M")
        #expect(BenchFormat.rate(45_678) == "45.7k")
        #expect(BenchFormat.rate(950) == "950")
    }
}
