import DouyinOpenAPI

/// Made-up data for generated certificates. Names carry a `测试` prefix, phone numbers start
/// with `100` (no Chinese mobile number does) and credential numbers with region `000000`
/// (no region has it), so nothing can be mistaken for a real person.
enum FakeData {
    static let surnames = ["王", "李", "张", "刘", "陈", "杨", "黄", "赵", "周", "吴"]
    static let givenNames = ["小明", "芳芳", "建国", "丽华", "晓东", "静怡", "子涵", "浩然", "雨桐", "思远"]

    /// Pickup-store products: title and price in fen.
    static let products: [(title: String, pay: Int64)] = [
        ("鲜肉月饼 6 只装 提货券", 3_990), ("手工水饺 1kg 提货券", 4_580), ("奶油蛋糕 6 寸 提货券", 12_800),
        ("精品粽子礼盒 提货券", 8_800), ("现烤面包 5 选 3 提货券", 2_990), ("冷鲜鸡 1 只 提货券", 5_600),
        ("有机蔬菜周卡 提货券", 9_900), ("鲜牛奶 1L 提货券", 1_590),
    ]
    /// Times-card products: title and price per use in fen.
    static let timesCards: [(title: String, perUse: Int64)] = [
        ("鲜牛奶月卡 次卡", 1_290), ("洗车 次卡", 2_500), ("早餐套餐 次卡", 990), ("咖啡 次卡", 1_500),
    ]

    static func buyer(_ rng: inout SeededGenerator) -> ReserveUser {
        let name = "测试" + surnames[Int(rng.next() % UInt64(surnames.count))]
            + givenNames[Int(rng.next() % UInt64(givenNames.count))]
        let phone = "100" + digits(8, &rng)
        return ReserveUser(name: name, phone: phone, credentialType: 1, credentialNumb: "000000" + digits(12, &rng))
    }

    static func digits(_ count: Int, _ rng: inout SeededGenerator) -> String {
        String((0..<count).map { _ in Character(String(rng.next() % 10)) })
    }

    static func token(_ count: Int, _ rng: inout SeededGenerator, alphabet: String) -> String {
        let chars = Array(alphabet)
        return String((0..<count).map { _ in chars[Int(rng.next() % UInt64(chars.count))] })
    }

    static let alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    static let hex = "0123456789abcdef"
}
