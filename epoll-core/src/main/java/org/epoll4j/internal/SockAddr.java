package org.epoll4j.internal;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.UnixDomainSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** Encodes and decodes {@code struct sockaddr_in}, {@code sockaddr_in6} and {@code sockaddr_un}. */
public final class SockAddr {
    /** {@code sizeof(struct sockaddr_storage)}. */
    public static final int MAX_SIZE = 128;
    private static final int UNIX_PATH_MAX = 108;

    private SockAddr() {
    }

    /** The address family (AF_INET, AF_INET6, AF_UNIX) a socket for {@code address} needs. */
    public static int family(SocketAddress address) {
        if (address instanceof InetSocketAddress isa) {
            if (isa.isUnresolved()) {
                throw new IllegalArgumentException("unresolved address: " + isa);
            }
            return isa.getAddress() instanceof Inet6Address ? LibC.AF_INET6 : LibC.AF_INET;
        }
        if (address instanceof UnixDomainSocketAddress) {
            return LibC.AF_UNIX;
        }
        throw new IllegalArgumentException("unsupported address type: "
                + (address == null ? "null" : address.getClass().getName()));
    }

    /**
     * Writes {@code address} at the start of {@code buf} (a native-order direct buffer of at least
     * {@link #MAX_SIZE} bytes).
     *
     * @return the length to pass as {@code addrlen}
     */
    public static int encode(SocketAddress address, ByteBuffer buf) {
        int family = family(address);
        for (int i = 0; i < MAX_SIZE; i += 8) {
            buf.putLong(i, 0);
        }
        buf.putShort(0, (short) family);
        if (family == LibC.AF_UNIX) {
            byte[] path = ((UnixDomainSocketAddress) address).getPath().toString().getBytes(StandardCharsets.UTF_8);
            if (path.length == 0 || path.length >= UNIX_PATH_MAX) {
                throw new IllegalArgumentException("unix socket path must be 1.." + (UNIX_PATH_MAX - 1)
                        + " bytes: " + address);
            }
            for (int i = 0; i < path.length; i++) {
                buf.put(2 + i, path[i]);
            }
            return 2 + path.length + 1;
        }
        InetSocketAddress isa = (InetSocketAddress) address;
        int port = isa.getPort();
        buf.put(2, (byte) (port >>> 8));
        buf.put(3, (byte) port);
        byte[] ip = isa.getAddress().getAddress();
        if (family == LibC.AF_INET) {
            for (int i = 0; i < 4; i++) {
                buf.put(4 + i, ip[i]);
            }
            return 16;
        }
        for (int i = 0; i < 16; i++) {
            buf.put(8 + i, ip[i]);
        }
        buf.putInt(24, ((Inet6Address) isa.getAddress()).getScopeId());
        return 28;
    }

    /** Reads the address the kernel wrote at the start of {@code buf}; {@code len} is the returned addrlen. */
    public static SocketAddress decode(ByteBuffer buf, int len) {
        int family = buf.getShort(0) & 0xFFFF;
        try {
            switch (family) {
                case LibC.AF_INET: {
                    byte[] ip = new byte[4];
                    for (int i = 0; i < 4; i++) {
                        ip[i] = buf.get(4 + i);
                    }
                    return new InetSocketAddress(InetAddress.getByAddress(ip), port(buf));
                }
                case LibC.AF_INET6: {
                    byte[] ip = new byte[16];
                    for (int i = 0; i < 16; i++) {
                        ip[i] = buf.get(8 + i);
                    }
                    int scope = buf.getInt(24);
                    InetAddress a = scope != 0 ? Inet6Address.getByAddress(null, ip, scope) : InetAddress.getByAddress(ip);
                    return new InetSocketAddress(a, port(buf));
                }
                case LibC.AF_UNIX: {
                    int n = 0;
                    while (2 + n < len && buf.get(2 + n) != 0) {
                        n++;
                    }
                    byte[] path = new byte[n];
                    for (int i = 0; i < n; i++) {
                        path[i] = buf.get(2 + i);
                    }
                    return UnixDomainSocketAddress.of(new String(path, StandardCharsets.UTF_8));
                }
                default:
                    throw new IllegalArgumentException("unknown address family " + family);
            }
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * An IPv4 sockaddr packed into a long (the address's 32 bits and the port), so that a connection can keep its
     * peer without the three objects an {@link InetSocketAddress} costs until someone asks for it; -1 for any other
     * family.
     */
    public static long packInet4(ByteBuffer buf) {
        if ((buf.getShort(0) & 0xFFFF) != LibC.AF_INET) {
            return -1;
        }
        long ip = ((buf.get(4) & 0xFFL) << 24) | ((buf.get(5) & 0xFFL) << 16) | ((buf.get(6) & 0xFFL) << 8)
                | (buf.get(7) & 0xFFL);
        return (ip << 16) | port(buf);
    }

    /** The address {@link #packInet4} packed. */
    public static InetSocketAddress unpackInet4(long packed) {
        long ip = packed >>> 16;
        byte[] b = {(byte) (ip >>> 24), (byte) (ip >>> 16), (byte) (ip >>> 8), (byte) ip};
        try {
            return new InetSocketAddress(InetAddress.getByAddress(b), (int) (packed & 0xFFFF));
        } catch (java.net.UnknownHostException e) {
            throw new IllegalStateException(e); // cannot happen for 4 bytes
        }
    }

    private static int port(ByteBuffer buf) {
        return ((buf.get(2) & 0xFF) << 8) | (buf.get(3) & 0xFF);
    }
}
