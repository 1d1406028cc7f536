// Boot dependencies between remote processors. `bootAfter` lists the processors that must be running before
// one boots, like a modem whose firmware talks to a DSP from its first instruction. The dependencies form a
// directed graph (an edge from each processor to each name in its bootAfter); a valid profile's graph has no
// cycle, and a processor boots after all of its dependencies, transitively, in depth-first order.
//
// The walks are iterative, so a long dependency chain in a hostile file cannot exhaust the stack.

extension SoCProfile {
    /// The processors to boot, in order, to bring up `name`: its dependencies first (transitively, each
    /// after its own dependencies, in `bootAfter` order, without repeats), then `name` itself.
    ///
    /// Returns an empty array when no remote processor is called `name`. Unknown dependency names and
    /// cycles (which `validate()` rejects) are skipped rather than looped on.
    public func bootOrder(for name: String) -> [String] {
        let graph = BootDependencyGraph(self)
        guard let start = graph.index(of: name) else { return [] }
        var walk = graph.makeWalk()
        graph.visit(from: start, walk: &walk)
        return walk.finished.map { remoteProcessors[$0].name }
    }

    /// The processors to boot when the SoC starts: every processor with `autoBoot`, in profile order, each
    /// preceded by its dependencies (which boot even when they are not `autoBoot` themselves), without repeats.
    public var autoBootOrder: [String] {
        let graph = BootDependencyGraph(self)
        var walk = graph.makeWalk()
        for (index, remote) in remoteProcessors.enumerated() where remote.autoBoot {
            graph.visit(from: index, walk: &walk)
        }
        return walk.finished.map { remoteProcessors[$0].name }
    }

    /// The first dependency cycle in profile order, as the names along it with the first repeated at the
    /// end ("modem", "dsp", "modem"), and the `bootAfter` entry that closes it.
    func firstBootDependencyCycle() -> (remoteIndex: Int, entryIndex: Int, names: [String])? {
        let graph = BootDependencyGraph(self)
        var walk = graph.makeWalk()
        for start in remoteProcessors.indices {
            if let cycle = graph.visit(from: start, walk: &walk) {
                return (cycle.remoteIndex, cycle.entryIndex, cycle.path.map { remoteProcessors[$0].name })
            }
        }
        return nil
    }
}

/// The boot dependency graph of a profile, by remote processor index.
struct BootDependencyGraph {
    /// For each processor, the index of each `bootAfter` entry's processor (nil for unknown names).
    let edges: [[Int?]]
    private let indexByName: [String: Int]

    init(_ profile: SoCProfile) {
        var indexByName: [String: Int] = [:]
        for (index, remote) in profile.remoteProcessors.enumerated() where indexByName[remote.name] == nil {
            indexByName[remote.name] = index
        }
        self.indexByName = indexByName
        edges = profile.remoteProcessors.map { remote in remote.bootAfter.map { indexByName[$0] } }
    }

    func index(of name: String) -> Int? { indexByName[name] }

    enum Mark { case unvisited, inProgress, done }

    /// Depth-first walk state shared across several starting points.
    struct Walk {
        var marks: [Mark]
        /// Processors in the order their walk finished: dependencies before dependents.
        var finished: [Int] = []
    }

    /// A cycle found by a walk: `path` starts and ends with the same processor.
    struct Cycle {
        var remoteIndex: Int
        var entryIndex: Int
        var path: [Int]
    }

    func makeWalk() -> Walk { Walk(marks: Array(repeating: .unvisited, count: edges.count)) }

    /// Walks the dependencies of `start`, appending each processor to `walk.finished` once all of its
    /// dependencies are finished. Returns the first cycle met (its edge is then skipped).
    @discardableResult
    func visit(from start: Int, walk: inout Walk) -> Cycle? {
        guard walk.marks[start] == .unvisited else { return nil }
        var firstCycle: Cycle?
        var stack: [(node: Int, nextEntry: Int)] = [(start, 0)]
        walk.marks[start] = .inProgress
        while let top = stack.last {
            let entries = edges[top.node]
            guard top.nextEntry < entries.count else {
                walk.marks[top.node] = .done
                walk.finished.append(top.node)
                stack.removeLast()
                continue
            }
            stack[stack.count - 1].nextEntry += 1
            guard let next = entries[top.nextEntry] else { continue }
            switch walk.marks[next] {
            case .unvisited:
                walk.marks[next] = .inProgress
                stack.append((next, 0))
            case .inProgress:
                if firstCycle == nil, let loopStart = stack.firstIndex(where: { $0.node == next }) {
                    let path = stack[loopStart...].map(\.node) + [next]
                    firstCycle = Cycle(remoteIndex: top.node, entryIndex: top.nextEntry, path: path)
                }
            case .done:
                continue
            }
        }
        return firstCycle
    }
}
