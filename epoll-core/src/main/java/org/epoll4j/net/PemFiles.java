package org.epoll4j.net;

import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Reads PEM files as {@code openssl} writes them: certificates ({@code BEGIN CERTIFICATE}) and private keys, PKCS#8
 * ({@code BEGIN PRIVATE KEY}, {@code BEGIN ENCRYPTED PRIVATE KEY}), PKCS#1 RSA ({@code BEGIN RSA PRIVATE KEY}) and
 * SEC1 EC ({@code BEGIN EC PRIVATE KEY}). The JDK has no PEM reader before Java 25's preview; the two legacy formats
 * are re-wrapped as PKCS#8 (a few bytes of DER) so the JDK's key factories read them. Every error names the file.
 */
final class PemFiles {
    private static final String CERTIFICATE = "CERTIFICATE";

    private PemFiles() {
    }

    /** One {@code -----BEGIN type-----} block: its type, headers (legacy encryption) and decoded body. */
    record Block(String type, boolean legacyEncrypted, byte[] der) {
    }

    /** The certificates in {@code file}, in file order (leaf first, as a chain file lists them). */
    static List<X509Certificate> certificates(Path file) throws IOException {
        List<X509Certificate> certs = new ArrayList<>();
        try {
            CertificateFactory cf = CertificateFactory.getInstance("X.509");
            for (Block b : blocks(file)) {
                if (b.type.equals(CERTIFICATE)) {
                    certs.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(b.der)));
                }
            }
        } catch (CertificateException e) {
            throw new IOException(file + ": a certificate block is not a valid X.509 certificate: " + e.getMessage(), e);
        }
        if (certs.isEmpty()) {
            throw new IOException(file + ": no certificate (expected a \"-----BEGIN CERTIFICATE-----\" block)");
        }
        return certs;
    }

    /**
     * The private key in {@code file}.
     *
     * @param password for {@code BEGIN ENCRYPTED PRIVATE KEY}; null when the key is not encrypted
     */
    static PrivateKey privateKey(Path file, char[] password) throws IOException {
        Block key = null;
        for (Block b : blocks(file)) {
            if (b.type.endsWith("PRIVATE KEY")) {
                if (key != null) {
                    throw new IOException(file + ": more than one private key; keep one key per file");
                }
                key = b;
            }
        }
        if (key == null) {
            throw new IOException(file + ": no private key (expected \"-----BEGIN PRIVATE KEY-----\", \"ENCRYPTED "
                    + "PRIVATE KEY\", \"RSA PRIVATE KEY\" or \"EC PRIVATE KEY\")");
        }
        if (key.legacyEncrypted) {
            throw new IOException(file + ": \"" + key.type + "\" with legacy PEM encryption (Proc-Type: 4,ENCRYPTED) "
                    + "is not supported; convert it: openssl pkcs8 -topk8 -in " + file.getFileName() + " -out key.p8");
        }
        byte[] pkcs8;
        switch (key.type) {
            case "PRIVATE KEY":
                pkcs8 = key.der;
                break;
            case "ENCRYPTED PRIVATE KEY":
                pkcs8 = decrypt(file, key.der, password);
                break;
            case "RSA PRIVATE KEY":
                pkcs8 = Der.pkcs8(Der.RSA_ALGORITHM, key.der);
                break;
            case "EC PRIVATE KEY":
                pkcs8 = Der.pkcs8(Der.ecAlgorithm(file, key.der), key.der);
                break;
            default:
                throw new IOException(file + ": unsupported key type \"" + key.type + "\"");
        }
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(pkcs8);
        for (String alg : new String[]{"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(spec);
            } catch (GeneralSecurityException | IllegalArgumentException wrongAlgorithm) {
                // try the next
            }
        }
        throw new IOException(file + ": \"" + key.type + "\" is not an RSA, EC, EdDSA or RSASSA-PSS key the JDK reads");
    }

    private static byte[] decrypt(Path file, byte[] der, char[] password) throws IOException {
        if (password == null) {
            throw new IOException(file + ": the key is encrypted (\"ENCRYPTED PRIVATE KEY\") and no password was given");
        }
        try {
            EncryptedPrivateKeyInfo info = new EncryptedPrivateKeyInfo(der);
            // PBES2's name is the OID; its parameters print as the JDK's algorithm name (PBEWithHmacSHA256AndAES_256)
            String alg = info.getAlgParameters() != null ? info.getAlgParameters().toString() : info.getAlgName();
            SecretKeyFactory skf = SecretKeyFactory.getInstance(alg);
            Cipher cipher = Cipher.getInstance(alg);
            cipher.init(Cipher.DECRYPT_MODE, skf.generateSecret(new PBEKeySpec(password)), info.getAlgParameters());
            return info.getKeySpec(cipher).getEncoded();
        } catch (GeneralSecurityException | IOException e) {
            throw new IOException(file + ": cannot decrypt the \"ENCRYPTED PRIVATE KEY\" (wrong password, or an "
                    + "encryption the JDK lacks; openssl pkcs8 -topk8 -v2 aes-256-cbc writes one it reads): " + e, e);
        }
    }

    /** Checks that {@code key} belongs to {@code cert} (a signature made with one verifies with the other). */
    static void checkPair(Path keyFile, PrivateKey key, Path certFile, X509Certificate cert) throws IOException {
        PublicKey pub = cert.getPublicKey();
        String alg = switch (key.getAlgorithm()) {
            case "RSA" -> "SHA256withRSA";
            case "EC" -> "SHA256withECDSA";
            case "Ed25519", "Ed448", "EdDSA" -> key.getAlgorithm();
            default -> null; // RSASSA-PSS needs parameters: left to the handshake
        };
        if (alg == null) {
            return;
        }
        boolean matches;
        try {
            byte[] probe = new byte[32];
            new SecureRandom().nextBytes(probe);
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(pub);
            v.update(probe);
            matches = v.verify(sig);
        } catch (GeneralSecurityException e) {
            matches = false; // e.g. an EC key against an RSA certificate
        }
        if (!matches) {
            throw new IOException(keyFile + ": the " + key.getAlgorithm() + " private key does not belong to the first "
                    + "certificate of " + certFile + " (" + cert.getSubjectX500Principal().getName() + ", "
                    + pub.getAlgorithm() + ")");
        }
    }

    static List<Block> blocks(Path file) throws IOException {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            throw new IOException(file + ": cannot read: " + e, e);
        }
        List<Block> blocks = new ArrayList<>();
        int at = 0;
        while (true) {
            int begin = text.indexOf("-----BEGIN ", at);
            if (begin < 0) {
                break;
            }
            int typeEnd = text.indexOf("-----", begin + 11);
            if (typeEnd < 0) {
                throw new IOException(file + ": malformed PEM header at offset " + begin);
            }
            String type = text.substring(begin + 11, typeEnd);
            String endMarker = "-----END " + type + "-----";
            int end = text.indexOf(endMarker, typeEnd);
            if (end < 0) {
                throw new IOException(file + ": \"-----BEGIN " + type + "-----\" has no \"" + endMarker + "\"");
            }
            String body = text.substring(typeEnd + 5, end);
            boolean encrypted = body.contains("Proc-Type:") && body.contains("ENCRYPTED");
            if (body.contains(":")) { // RFC 1421 headers end at the first empty line
                int blank = body.indexOf("\n\n");
                if (blank < 0) {
                    blank = body.indexOf("\r\n\r\n");
                }
                body = blank < 0 ? "" : body.substring(blank);
            }
            try {
                blocks.add(new Block(type, encrypted, Base64.getMimeDecoder().decode(body.trim())));
            } catch (IllegalArgumentException e) {
                throw new IOException(file + ": the \"" + type + "\" block is not valid base64: " + e.getMessage(), e);
            }
            at = end + endMarker.length();
        }
        if (blocks.isEmpty()) {
            throw new IOException(file + ": not a PEM file (no \"-----BEGIN ...-----\" line)"
                    + (looksBinary(file) ? "; it looks binary: a DER or PKCS#12 file? use TlsContextBuilder.forServer"
                    + "(keystore, password) for PKCS#12" : ""));
        }
        return blocks;
    }

    private static boolean looksBinary(Path file) {
        try {
            byte[] head = Files.readAllBytes(file);
            return head.length > 0 && head[0] == 0x30;
        } catch (IOException e) {
            return false;
        }
    }

    /** The few DER pieces needed to wrap PKCS#1 and SEC1 keys as PKCS#8. */
    static final class Der {
        /** AlgorithmIdentifier { rsaEncryption, NULL }. */
        static final byte[] RSA_ALGORITHM = tlv(0x30, concat(
                new byte[]{0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x01, 0x01},
                new byte[]{0x05, 0x00}));
        /** OID id-ecPublicKey 1.2.840.10045.2.1. */
        private static final byte[] EC_PUBLIC_KEY = {0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01};

        private Der() {
        }

        /** PrivateKeyInfo { version 0, algorithm, OCTET STRING key }. */
        static byte[] pkcs8(byte[] algorithm, byte[] key) {
            return tlv(0x30, concat(new byte[]{0x02, 0x01, 0x00}, algorithm, tlv(0x04, key)));
        }

        /** AlgorithmIdentifier { id-ecPublicKey, curve } with the curve OID from SEC1's [0] parameters. */
        static byte[] ecAlgorithm(Path file, byte[] sec1) throws IOException {
            try {
                int[] seq = header(sec1, 0, 0x30);
                int p = seq[0];
                int end = seq[0] + seq[1];
                while (p < end) {
                    int tag = sec1[p] & 0xff;
                    int[] h = header(sec1, p, tag);
                    if (tag == 0xa0) { // [0] ECParameters: a named curve's OID
                        byte[] oid = java.util.Arrays.copyOfRange(sec1, h[0], h[0] + h[1]);
                        if (oid[0] != 0x06) {
                            break; // explicit curve parameters: unsupported
                        }
                        return tlv(0x30, concat(EC_PUBLIC_KEY, oid));
                    }
                    p = h[0] + h[1];
                }
            } catch (RuntimeException malformed) {
                throw new IOException(file + ": the \"EC PRIVATE KEY\" is not valid SEC1 DER", malformed);
            }
            throw new IOException(file + ": the \"EC PRIVATE KEY\" names no curve (SEC1 without named-curve "
                    + "parameters); convert it: openssl pkcs8 -topk8 -nocrypt");
        }

        /** {content offset, content length} of the TLV at {@code at}, which must carry {@code tag}. */
        private static int[] header(byte[] der, int at, int tag) {
            if ((der[at] & 0xff) != tag) {
                throw new IllegalArgumentException("tag " + (der[at] & 0xff) + " at " + at + ", expected " + tag);
            }
            int len = der[at + 1] & 0xff;
            int p = at + 2;
            if (len >= 0x80) {
                int n = len & 0x7f;
                len = 0;
                for (int i = 0; i < n; i++) {
                    len = (len << 8) | (der[p++] & 0xff);
                }
            }
            if (p + len > der.length) {
                throw new IllegalArgumentException("length " + len + " past the end at " + at);
            }
            return new int[]{p, len};
        }

        static byte[] tlv(int tag, byte[] content) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(content.length + 6);
            out.write(tag);
            int n = content.length;
            if (n < 0x80) {
                out.write(n);
            } else if (n < 0x100) {
                out.write(0x81);
                out.write(n);
            } else if (n < 0x10000) {
                out.write(0x82);
                out.write(n >> 8);
                out.write(n);
            } else {
                out.write(0x83);
                out.write(n >> 16);
                out.write(n >> 8);
                out.write(n);
            }
            out.writeBytes(content);
            return out.toByteArray();
        }

        static byte[] concat(byte[]... parts) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (byte[] p : parts) {
                out.writeBytes(p);
            }
            return out.toByteArray();
        }
    }
}
