package org.epoll4j.net;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A small PKI made once per JVM with {@code openssl} in a temporary directory, for each key type (RSA 2048, EC
 * P-256): a root CA, an intermediate CA, and a leaf for localhost/127.0.0.1 (server and client use), with the key in
 * the formats openssl writes: PKCS#8 ({@code rsa-leaf.key}), PKCS#1 ({@code rsa-leaf.pkcs1}), SEC1
 * ({@code ec-leaf.sec1}), encrypted PKCS#8 ({@code ec-leaf.enc}, password "secret") and PKCS#12 ({@code rsa.p12},
 * password "secret"). {@code ALG-chain.pem} is leaf then intermediate.
 */
final class TlsPki {
    static final String PASSWORD = "secret";
    private static final String SCRIPT = String.join("\n",
            "set -e",
            "for alg in rsa ec; do",
            " if [ $alg = rsa ]; then KO='-newkey rsa:2048'; else KO='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1'; fi",
            " openssl req -x509 $KO -nodes -keyout $alg-root.key -out $alg-root.pem -days 2 -subj /CN=root-$alg"
                    + " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign",
            " openssl req $KO -nodes -keyout $alg-int.key -out $alg-int.csr -subj /CN=int-$alg",
            " printf 'basicConstraints=critical,CA:TRUE,pathlen:0\\nkeyUsage=keyCertSign,cRLSign\\n' > ca.ext",
            " openssl x509 -req -in $alg-int.csr -CA $alg-root.pem -CAkey $alg-root.key -CAcreateserial"
                    + " -out $alg-int.pem -days 2 -extfile ca.ext",
            " openssl req $KO -nodes -keyout $alg-leaf.key -out $alg-leaf.csr -subj /CN=localhost",
            " printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\nextendedKeyUsage=serverAuth,clientAuth\\n' > leaf.ext",
            " openssl x509 -req -in $alg-leaf.csr -CA $alg-int.pem -CAkey $alg-int.key -CAcreateserial"
                    + " -out $alg-leaf.pem -days 2 -extfile leaf.ext",
            " cat $alg-leaf.pem $alg-int.pem > $alg-chain.pem",
            "done",
            "openssl rsa -in rsa-leaf.key -traditional -out rsa-leaf.pkcs1",
            "openssl ec -in ec-leaf.key -out ec-leaf.sec1",
            "openssl pkcs8 -topk8 -in ec-leaf.key -v2 aes-256-cbc -passout pass:" + PASSWORD + " -out ec-leaf.enc",
            "openssl pkcs12 -export -in rsa-chain.pem -inkey rsa-leaf.key -passout pass:" + PASSWORD + " -out rsa.p12",
            "");
    private static Path dir;

    private TlsPki() {
    }

    /** The directory holding the files (made on first use). */
    static synchronized Path dir() throws Exception {
        if (dir == null) {
            Path d = Files.createTempDirectory("epoll4j-pki");
            Process p = new ProcessBuilder(List.of("bash", "-c", SCRIPT)).directory(d.toFile())
                    .redirectErrorStream(true).start();
            byte[] out;
            try (InputStream in = p.getInputStream()) {
                out = in.readAllBytes();
            }
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("openssl did not finish in 120 s");
            }
            if (p.exitValue() != 0) {
                throw new IOException("making the test PKI with openssl failed (" + p.exitValue() + "): "
                        + new String(out));
            }
            try (var files = Files.list(d)) {
                files.forEach(f -> f.toFile().deleteOnExit());
            }
            d.toFile().deleteOnExit();
            dir = d;
        }
        return dir;
    }

    static Path file(String name) throws Exception {
        return dir().resolve(name);
    }
}
