package org.epoll4j.net;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Spots a client's renegotiation on a server connection, before the engine sees it. After the initial handshake of
 * TLS 1.2 (and older) a client sends handshake records only to renegotiate (its ClientHello); the record type byte
 * is not encrypted, so the first byte of the next record tells. TLS 1.3 hides record types and has no renegotiation
 * (its KeyUpdate is harmless), so the guard is off there. This replaces the JDK's global
 * {@code jdk.tls.rejectClientInitiatedRenegotiation} with a per-{@link TlsConfig} choice that works on any provider.
 */
final class RenegotiationGuard {
    /** TLS record content type handshake(22). */
    private static final byte HANDSHAKE = 22;
    private static final Set<String> TLS13_SUITES = Set.of("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
            "TLS_CHACHA20_POLY1305_SHA256");

    private RenegotiationGuard() {
    }

    /** Whether to refuse renegotiation on this engine, whose initial handshake just finished. */
    static boolean applies(TlsConfig config, SSLEngine engine) {
        if (engine.getUseClientMode() || config.allowsClientRenegotiation()) {
            return false;
        }
        String protocol = engine.getSession().getProtocol();
        return !"TLSv1.3".equals(protocol) && !"DTLSv1.2".equals(protocol);
    }

    /** Whether the record at {@code in}'s position (a record boundary) is a handshake record. */
    static boolean isHandshakeRecord(ByteBuffer in) {
        return in.hasRemaining() && in.get(in.position()) == HANDSHAKE;
    }

    /**
     * Makes the engine fail the renegotiation it is about to read: only TLS 1.3 suites stay enabled, so the TLS 1.2
     * ClientHello shares none with the server and the engine answers with a fatal handshake_failure alert, encrypted
     * under the connection's keys as only the engine can. (The alternative, close_notify, reads to a client as an
     * orderly close: openssl s_client, and so testssl.sh, would still call the server vulnerable.)
     *
     * @return false if the engine has no TLS 1.3 suite to keep
     */
    static boolean failNextHandshake(SSLEngine engine) {
        List<String> tls13 = new ArrayList<>();
        for (String s : engine.getSupportedCipherSuites()) {
            if (TLS13_SUITES.contains(s)) {
                tls13.add(s);
            }
        }
        if (tls13.isEmpty()) {
            return false;
        }
        engine.setEnabledCipherSuites(tls13.toArray(new String[0]));
        return true;
    }

    /** The error the connection closes with when the engine could not be made to fail the handshake itself. */
    static SSLHandshakeException refused(Object peer, Throwable cause) {
        SSLHandshakeException e = new SSLHandshakeException("client-initiated TLS renegotiation from " + peer
                + " refused (allow it with TlsConfig.clientRenegotiation(true))");
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }
}
