import ArgumentParser
import CertWatchCore

/// `certwatch`: watches Douyin life-service voucher certificates and tells your systems when they change.
@main
struct CertWatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "certwatch",
        abstract: "Watch Douyin life-service voucher certificates (抖音生活服务券码) and deliver their changes.",
        version: CertWatchVersion.current,
        subcommands: [
            DemoCommand.self,
            ServeCommand.self,
            ConfigCommand.self,
            WatchCommand.self,
            AccountsCommand.self,
            EventsCommand.self,
            InspectCommand.self,
            DiffCommand.self,
            RulesCommand.self,
            SandboxCommand.self,
            ListenCommand.self,
            DeliveriesCommand.self,
            SinksCommand.self,
            BenchCommand.self,
        ]
    )
}
