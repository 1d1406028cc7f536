import Foundation
import Testing

@testable import AmpCLI

/// The hand-over of answers from the rpmsg service thread to the measuring thread: values arrive in order, a
/// waiter that sleeps is woken (no lost wake-ups, whether it spins first or not), and spinning is enabled only
/// with a CPU to spare. No assertion on speed.
extension BenchTests {
    @Test func replyMailboxSpinsOnlyWithThreeCPUs() {
        #expect(ReplyMailbox(spinBudget: .microseconds(50), usableCPUs: 1).spinNanoseconds == 0)
        #expect(ReplyMailbox(spinBudget: .microseconds(50), usableCPUs: 2).spinNanoseconds == 0)
        #expect(ReplyMailbox(spinBudget: .microseconds(50), usableCPUs: 3).spinNanoseconds == 50_000)
        #expect(ReplyMailbox(spinBudget: .microseconds(7), usableCPUs: 16).spinNanoseconds == 7_000)
    }

    @Test func replyMailboxKeepsTheLatestReply() {
        let mailbox = ReplyMailbox(spinBudget: .microseconds(50), usableCPUs: 3)
        #expect(mailbox.posted == 0)
        #expect(!mailbox.wait(untilPosted: 1, slice: .milliseconds(2)))
        mailbox.post(first: 7, second: 16)
        mailbox.post(first: 8, second: 496)
        #expect(mailbox.posted == 2)
        #expect(mailbox.wait(untilPosted: 1, slice: .milliseconds(2)))
        #expect(mailbox.wait(untilPosted: 2, slice: .milliseconds(2)))
        #expect(!mailbox.wait(untilPosted: 3, slice: .milliseconds(2)))
        #expect(mailbox.latest == (8, 496))
    }

    @Test(arguments: [1, 3])
    func replyMailboxPingPongAcrossThreads(usableCPUs: Int) {
        // Two threads answer each other 2,000 times: every answer must wake its waiter, sleeping or spinning.
        let requests = ReplyMailbox(spinBudget: .microseconds(20), usableCPUs: usableCPUs)
        let answers = ReplyMailbox(spinBudget: .microseconds(20), usableCPUs: usableCPUs)
        let rounds: UInt64 = 2_000
        let done = DispatchSemaphore(value: 0)
        let responder = Thread {
            for round in 1...rounds {
                while !requests.wait(untilPosted: round, slice: .seconds(1)) {}
                let (value, size) = requests.latest
                answers.post(first: value &* 2, second: size + 1)
            }
            done.signal()
        }
        responder.start()
        var mismatches = 0
        var timeouts = 0
        for round in 1...rounds {
            requests.post(first: round, second: Int(round % 500))
            var reached = answers.wait(untilPosted: round, slice: .seconds(5))
            if !reached {
                timeouts += 1
                reached = answers.wait(untilPosted: round, slice: .seconds(5))
            }
            guard reached else { break }
            if answers.latest != (round * 2, Int(round % 500) + 1) { mismatches += 1 }
        }
        #expect(timeouts == 0)
        #expect(mismatches == 0)
        #expect(answers.posted == rounds)
        #expect(done.wait(timeout: .now() + 10) == .success)
    }
}
