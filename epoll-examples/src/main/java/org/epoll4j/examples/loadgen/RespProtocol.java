package org.epoll4j.examples.loadgen;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * {@code --protocol resp}: Redis {@code GET} and {@code SET} commands on keys {@code key:0 .. key:N-1} (uniformly
 * random, a per-connection xorshift), {@code --set-percent} of them SETs of a {@code --size}-byte value. Replies are
 * parsed as RESP2 (simple strings, errors, integers, bulk strings including nil; arrays are not expected from GET or
 * SET); an error reply counts as a failure.
 */
final class RespProtocol implements Protocol {
    private static final int LINE = 0;
    private static final int BULK = 1;

    private final int keys;
    private final int setPercent;
    private final byte[] value;
    private final byte[] line = new byte[1024];
    private long random;
    private int lineLength;
    private int state = LINE;
    private long remaining;
    private long failures;

    /**
     * @param keys       the key space
     * @param setPercent the share of SETs, 0..100
     * @param valueSize  the size of a SET's value
     * @param seed       this connection's random seed (nonzero)
     */
    RespProtocol(int keys, int setPercent, int valueSize, long seed) {
        this.keys = keys;
        this.setPercent = setPercent;
        this.value = new byte[valueSize];
        java.util.Arrays.fill(value, (byte) 'x');
        this.random = seed == 0 ? 0x9E3779B97F4A7C15L : seed;
    }

    @Override
    public int maxRequestBytes() {
        return 64 + value.length;
    }

    @Override
    public void request(ByteBuffer out) {
        random ^= random << 13;
        random ^= random >>> 7;
        random ^= random << 17;
        long key = Math.floorMod(random, (long) keys);
        boolean set = Math.floorMod(random >>> 32, 100L) < setPercent;
        int keyLength = 4 + digits(key);
        if (set) {
            ascii(out, "*3\r\n$3\r\nSET\r\n$");
        } else {
            ascii(out, "*2\r\n$3\r\nGET\r\n$");
        }
        decimal(out, keyLength);
        ascii(out, "\r\nkey:");
        decimal(out, key);
        ascii(out, "\r\n");
        if (set) {
            out.put((byte) '$');
            decimal(out, value.length);
            ascii(out, "\r\n");
            out.put(value);
            ascii(out, "\r\n");
        }
    }

    @Override
    public long failures() {
        return failures;
    }

    @Override
    public int responses(ByteBuffer in) throws IOException {
        int done = 0;
        while (in.hasRemaining()) {
            if (state == BULK) {
                int take = (int) Math.min(remaining, in.remaining());
                in.position(in.position() + take);
                remaining -= take;
                if (remaining == 0) {
                    state = LINE;
                    done++;
                }
                continue;
            }
            byte b = in.get();
            if (lineLength == line.length) {
                throw new IOException("a RESP reply line longer than " + line.length + " bytes");
            }
            line[lineLength++] = b;
            if (b != '\n') {
                continue;
            }
            if (lineLength < 3 || line[lineLength - 2] != '\r') {
                throw new IOException("a RESP reply line without CRLF");
            }
            int n = lineLength - 2;
            lineLength = 0;
            switch (line[0]) {
                case '+':
                case ':':
                    done++;
                    break;
                case '-':
                    failures++;
                    done++;
                    break;
                case '$': {
                    long len = number(line, 1, n);
                    if (len < 0) {
                        done++; // nil
                    } else {
                        remaining = len + 2;
                        state = BULK;
                    }
                    break;
                }
                default:
                    throw new IOException("unexpected RESP reply type '"
                            + new String(line, 0, 1, StandardCharsets.ISO_8859_1) + "'");
            }
        }
        return done;
    }

    private static long number(byte[] l, int s, int e) throws IOException {
        boolean negative = s < e && l[s] == '-';
        if (negative) {
            s++;
        }
        if (s == e || e - s > 18) {
            throw new IOException("bad RESP length");
        }
        long v = 0;
        for (int i = s; i < e; i++) {
            if (l[i] < '0' || l[i] > '9') {
                throw new IOException("bad RESP length");
            }
            v = v * 10 + (l[i] - '0');
        }
        return negative ? -v : v;
    }

    private static int digits(long v) {
        int d = 1;
        while (v >= 10) {
            v /= 10;
            d++;
        }
        return d;
    }

    private static void decimal(ByteBuffer out, long v) {
        if (v >= 10) {
            decimal(out, v / 10);
        }
        out.put((byte) ('0' + v % 10));
    }

    private static void ascii(ByteBuffer out, String s) {
        for (int i = 0; i < s.length(); i++) {
            out.put((byte) s.charAt(i));
        }
    }
}
