import CertWatchCore
import DouyinOpenAPI
import Foundation

/// Measures rule evaluation throughput: `ruleCount` realistic rules (type filters, label and amount
/// conditions, string functions, a regex, a template every tenth rule), routing `events` events.
package enum RuleBenchmark {
    /// The result of a run.
    package struct Result: Sendable {
        /// Events routed per second.
        package var eventsPerSecond: Double
        /// Total deliveries decided (to keep the work observable).
        package var deliveries: Int
        /// Wall time of the routing loop, seconds.
        package var seconds: Double
        /// Rules in the set.
        package var ruleCount: Int
        /// Events routed per second of this thread's CPU time (stable on a busy machine).
        package var eventsPerCPUSecond: Double = 0
        /// Why the generated rules did not load (a bug), if they did not.
        package var loadError: String? = nil
    }

    /// The generated rule file text.
    package static func rulesYAML(ruleCount: Int) -> String {
        var yaml = "rules:\n"
        let types = EventType.allCases.map(\.rawValue)
        for i in 0..<ruleCount {
            yaml += "  - name: rule-\(i)\n"
            switch i % 5 {
            case 0:
                yaml += "    on: [\(types[i % types.count])]\n"
                yaml += "    when: 'data.certificate.amount.pay_amount >= \(i * 100) && data.watch.labels.store == \"sh-\(i % 10)\"'\n"
            case 1:
                yaml += "    on: [\"certificate.*\"]\n"
                yaml += "    when: 'data.watch.labels.store in [\"sh-1\", \"sh-2\", \"bj-\(i % 7)\"] || subject.startsWith(\"73\")'\n"
            case 2:
                yaml += "    on: [\"*\"]\n"
                yaml += "    when: 'has(data.verification.poi_id) && data.verification.poi_id.matches(\"^66[0-9]+$\")'\n"
            case 3:
                yaml += "    on: [certificate.verified, certificate.times_card_used]\n"
                yaml += "    when: 'data.certificate.expire_time - now > 1d && size(data.certificate.verifications) > 0'\n"
            default:
                yaml += "    on: [certificate.expiring_soon]\n"
                yaml += "    when: '!(data.watch.labels.env == \"test\") && data.certificate.sku.title.contains(\"套餐\")'\n"
            }
            yaml += "    deliver: [sink-\(i % 4)]\n"
            if i % 10 == 0 {
                yaml += "    body: \"{{subject}} ¥{{yuan(data.certificate.amount.pay_amount)}} {{local_time(timeunix)}}\"\n"
            }
        }
        return yaml
    }

    /// Sample events with varied types, stores and amounts.
    package static func sampleEvents(count: Int) -> [CertWatchEvent] {
        (0..<count).map { i in
            var event = RuleTestRunner.baseEvent(type: EventType.allCases[i % EventType.allCases.count], time: 1_734_169_100 + Int64(i))
            event.id = "evt_bench_\(i)"
            event.data.watch.labels["store"] = "sh-\(i % 10)"
            event.data.certificate?.amount?.payAmount = Int64((i * 37) % 20_000)
            return event
        }
    }

    /// Loads `ruleCount` rules and routes `events` events (cycled over 1,000 distinct samples).
    package static func run(ruleCount: Int = 100, events: Int = 20_000) -> Result {
        let ruleSet: RuleSet
        do {
            ruleSet = try RuleSet.parse(sources: [(file: "bench.yaml", text: rulesYAML(ruleCount: ruleCount))], knownSinks: nil)
        } catch {
            return Result(eventsPerSecond: 0, deliveries: 0, seconds: 0, ruleCount: ruleCount, loadError: error.description)
        }
        let samples = sampleEvents(count: min(max(events, 1), 1000))
        var deliveries = 0
        let clock = ContinuousClock()
        let cpuStart = BenchSupport.threadCPUSeconds()
        let elapsed = clock.measure {
            for i in 0..<events {
                deliveries += ruleSet.route(samples[i % samples.count], now: 1_734_169_200).count
            }
        }
        let cpu = BenchSupport.threadCPUSeconds() - cpuStart
        let seconds = elapsed.inSeconds
        return Result(
            eventsPerSecond: seconds > 0 ? Double(events) / seconds : 0, deliveries: deliveries, seconds: seconds,
            ruleCount: ruleSet.rules.count, eventsPerCPUSecond: cpu > 0 ? Double(events) / cpu : 0)
    }

}
