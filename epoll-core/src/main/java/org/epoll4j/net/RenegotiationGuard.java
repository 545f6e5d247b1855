package org.epoll4j.net;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import java.nio.ByteBuffer;

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

    /** The error the connection closes with. */
    static SSLHandshakeException refused(Object peer) {
        return new SSLHandshakeException("client-initiated TLS renegotiation from " + peer + " refused (allow it "
                + "with TlsConfig.clientRenegotiation(true))");
    }
}
