package org.epoll4j.net;

import javax.net.ssl.SSLEngine;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The protocols and cipher suites a {@link TlsConfig} enables unless told otherwise: Mozilla's "intermediate"
 * server profile (https://wiki.mozilla.org/Security/Server_Side_TLS, version 5.7) without its finite-field DHE
 * suites: TLS 1.3, and TLS 1.2 with ECDHE key exchange and AEAD ciphers (AES-GCM, ChaCha20-Poly1305) only. No CBC
 * suites (LUCKY13), no RSA key exchange (no forward secrecy, ROBOT), no TLS 1.0/1.1. Each list is intersected with
 * what the engine's provider supports, keeping this order (the server's preference).
 *
 * <p>Override with {@link TlsConfig#protocols}, {@link TlsConfig#cipherSuites} or {@link TlsConfig#contextDefaults}.
 */
public final class TlsDefaults {
    /** TLS 1.3, then TLS 1.2. */
    public static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

    /** TLS 1.3's three suites, then TLS 1.2's ECDHE + AEAD suites, ECDSA before RSA, AES-128 first. */
    public static final List<String> CIPHER_SUITES = List.of(
            "TLS_AES_128_GCM_SHA256",
            "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            // not a suite: signals secure renegotiation support (RFC 5746) in a TLS 1.2 ClientHello
            "TLS_EMPTY_RENEGOTIATION_INFO_SCSV");

    private TlsDefaults() {
    }

    static String[] protocols(SSLEngine engine) {
        return supported(PROTOCOLS, engine.getSupportedProtocols(), "protocols");
    }

    static String[] cipherSuites(SSLEngine engine) {
        return supported(CIPHER_SUITES, engine.getSupportedCipherSuites(), "cipher suites");
    }

    private static String[] supported(List<String> wanted, String[] supported, String what) {
        Set<String> has = new HashSet<>(Arrays.asList(supported));
        List<String> out = new ArrayList<>(wanted.size());
        for (String w : wanted) {
            if (has.contains(w)) {
                out.add(w);
            }
        }
        if (out.isEmpty() || (out.size() == 1 && out.get(0).endsWith("_SCSV"))) {
            throw new IllegalStateException("the TLS provider supports none of the default " + what + " " + wanted
                    + " (it has " + Arrays.toString(supported) + "); set TlsConfig.protocols/cipherSuites or "
                    + "contextDefaults()");
        }
        return out.toArray(new String[0]);
    }
}
