import ArchiveCore
import Foundation

/// Fixtures made with Python's `cryptography` (AES-256-CTR), not with our own code:
///
///     key = bytes(range(32)); iv = bytes.fromhex("0102030405060708") + bytes(8)
///     ct = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor().update(plaintext)
///     hashes.sha256 = unpadded base64 of sha256(ct); k = unpadded base64url of key
public enum CipherFixtures {
    public static let textPlain = Data("mxarchive attachment fixture: AES-256-CTR, spanning more than one block of sixteen bytes.\n".utf8)
    public static let textCipher = hex("081a1aa3449c3c17ead9b184f5be4edc89c42dc87141137849f0a4e760f14ef7d9321c85bb3ab63fdee4f42e049fa138c8c08178066e0612902cd523d17ea3c04ef02b3d9789ad71c2cee1a56ab8b6793390a819cb0ccbb7d22d")
    public static let textFile: JSONValue = [
        "url": "mxc://example.org/abc", "v": "v2", "iv": "AQIDBAUGBwgAAAAAAAAAAA",
        "key": ["kty": "oct", "alg": "A256CTR", "ext": true, "key_ops": ["encrypt", "decrypt"],
                "k": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"],
        "hashes": ["sha256": "ERhNSAskD4Bngz5EAHG9DQrrUaSm5SUuio9O7uiKjO0"],
    ]

    /// key = bytes([0xfb, 0xff, 0xbf] * 10 + [0xfe, 0xef]) (a `k` full of `-` and `_`),
    /// iv = a1b2c3d4e5f60718 + 8 zero bytes, plaintext = bytes(range(256)) * 3, no `v` (v1).
    public static let binaryPlain = Data((0..<3).flatMap { _ in (0...255).map(UInt8.init) })
    public static let binaryCipherSHA256Hex = "6718f0d840b788fc9e0c18983a3a534065ca22fde757a7f277a6cdacae4a874f"
    public static let binaryFile: JSONValue = [
        "url": "mxc://example.org/def", "iv": "obLD1OX2BxgAAAAAAAAAAA",
        "key": ["kty": "oct", "alg": "A256CTR", "k": "-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-_-__u8"],
        "hashes": ["sha256": "Zxjw2EC3iPyeDBiYOjpTQGXKIv3nV6fyd6bNrK5Kh08"],
    ]
    public static let binaryCipher = hex("da1dbf9eda71f7087fcf15cda62df4aa425b8d305806d747094e63b1c99c8c9abd25587d86162cff5832e92d4da79ba105392408c324a68a4e9594f09b8e4602cf0a8bfe10871c417d45732b062ebcecc5c98d8bf189898bdc1bc821e0c6e528ca4a6a503e4423bde446b36f100e9c7543beb1cb505bb93762920ff54eb16bbdef407da624d6100f5bfb7c2f1e1512a482831e089767ee2fae3ec344ead1b832d330a3502658e7d196022291af841d5e8c6bfe1f7f4aacfae4c13c2b1fc8ee98e63db2e0d3402c974c3b38fb00a974f201bbc6003c5160240a51e35ba64e58c614a6149ddc0a76c59c281e2c0b4ec6815691044151b9906cfe884326028ca17e755e9fa2a62fc24a771a2e688cc10eab2ff981706323c7e74e7fe80abbf8a709fc664c97ff45b256613bec01ea6849e00ae794c96086738178c5321e2ea3657c1f547b18ace1a32bc089647bd51f92c58b811566ebdcbf825aad986768145a269879026fa06178ae071326d8d8461ffb1dbf05b06ca4cbd8dd3efe30c74f1e7fbfccf4aa2eb50c28ce7e5e5b1995ef9acf87f4ad7f2b93826fea62a3c7e443e57091d901c54eb01f279ea9cbedb4c03a610e085a65f6a8bcd40645e5eb7281aef52ee352f36ab71643c59982b6bf0f87043a2d9fbc4d2e1001c565b06a754d506d1ed530f355a0f6888e7b762a19ead2b61d7c3d6991fcb7714e89e078abbb96e19900bbacef4c920459d28da610a66826801a318c0430284ce0b4f681f4e4596706fce4d1f9af8d2966ffc0b5804b74fb8c47792292d76a4a61d89e938aaf7342bd61ad7232ab776cced812ea386f50d0cfca7ec6b967019958f6201f1dbd3e13111b174430de733bca1e478e13c2f803c6f82b78da3c342edb9a64c285f2cfb283e3ca81dc1d85b31b9adb41f924d5248c5bfc47c78deebdc47e16111253a07934a0bd67b59af3cd8385f56e098a4577e22f947b5ac0a7378e819453111f3d6d02bb7c37609afbfdf472dcbe1f25900cc0b8e97f7fa5629c62a4ad05a5b9a6e912407068e1769a433245920f256ca353abc7c4e5082ca3913b84cad2a4e7bb")

    public static func hex(_ text: String) -> Data {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16)!)
            index = next
        }
        return Data(bytes)
    }
}

