package org.epoll4j.examples.resp;

import org.epoll4j.net.Connection;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Encodes RESP2 or RESP3 replies (as the session asked with HELLO) into one buffer per reactor; {@link #flush} hands everything a batch of requests produced
 * to the connection in one {@link Connection#write}. Values of {@link #LARGE} bytes or more are written straight from
 * their array instead of being copied in.
 */
final class Reply {
    static final int LARGE = 64 * 1024;
    private static final int INITIAL = 16 * 1024;
    private static final int KEEP = 1024 * 1024;

    static final byte[] OK = ascii("+OK\r\n");
    static final byte[] PONG = ascii("+PONG\r\n");
    static final byte[] NIL = ascii("$-1\r\n");
    static final byte[] NIL_ARRAY = ascii("*-1\r\n");
    static final byte[] EMPTY_ARRAY = ascii("*0\r\n");
    static final byte[] ZERO = ascii(":0\r\n");
    static final byte[] ONE = ascii(":1\r\n");
    static final byte[] WRONGTYPE = ascii("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n");
    static final byte[] NOT_INTEGER = ascii("-ERR value is not an integer or out of range\r\n");
    static final byte[] SYNTAX = ascii("-ERR syntax error\r\n");
    static final byte[] QUEUED = ascii("+QUEUED\r\n");
    static final byte[] NOAUTH = ascii("-NOAUTH Authentication required.\r\n");
    static final byte[] OOM = ascii("-OOM command not allowed when used memory > 'maxmemory'.\r\n");
    private static final byte[] NULL3 = ascii("_\r\n");

    private byte[] buf = new byte[INITIAL];
    private ByteBuffer view = ByteBuffer.wrap(buf);
    private int size;
    private Connection target;
    private long writes;
    /** Whether replies use RESP3's types (maps, sets, doubles, null, push). */
    boolean resp3;

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    /** Starts a batch for {@code connection}. */
    void begin(Connection connection, boolean resp3) {
        target = connection;
        size = 0;
        this.resp3 = resp3;
    }

    /** The bytes encoded since the last call, for a reply that goes to another connection (no target). */
    byte[] take() {
        byte[] b = Arrays.copyOf(buf, size);
        size = 0;
        return b;
    }

    /** Connection.write calls made (plain counter: read after the reactor's thread ended). */
    long writes() {
        return writes;
    }

    /** Drops what was encoded after {@code mark} (an earlier {@link #size()}): CLIENT REPLY OFF or SKIP. */
    void truncate(int mark) {
        if (mark <= size) {
            size = mark;
        }
    }

    /** Bytes waiting for {@link #flush}. */
    int size() {
        return size;
    }

    /** Writes what the batch produced to the connection in one call. */
    void flush() {
        if (size > 0) {
            view.clear().limit(size);
            size = 0;
            writes++;
            target.write(view);
        }
        if (buf.length > KEEP) { // one huge reply must not pin its buffer for good
            buf = new byte[INITIAL];
            view = ByteBuffer.wrap(buf);
        }
    }

    void raw(byte[] b) {
        ensure(b.length);
        System.arraycopy(b, 0, buf, size, b.length);
        size += b.length;
    }

    /** A simple string; {@code s} must not contain CR or LF. */
    void simple(String s) {
        ensure(s.length() + 3);
        buf[size++] = '+';
        putAscii(s);
        crlf();
    }

    /** An error reply ({@code "ERR ..."} without the '-'); CR and LF become spaces, as Redis does. */
    void error(String s) {
        ensure(s.length() + 3);
        buf[size++] = '-';
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            buf[size++] = c == '\r' || c == '\n' ? (byte) ' ' : (byte) c;
        }
        crlf();
    }

    void integer(long v) {
        ensure(24);
        buf[size++] = ':';
        decimal(v);
        crlf();
    }

    void arrayHeader(long n) {
        ensure(24);
        buf[size++] = '*';
        decimal(n);
        crlf();
    }

    void bulk(byte[] v) {
        bulk(v, 0, v.length);
    }

    void bulk(byte[] v, int off, int len) {
        ensure(24);
        buf[size++] = '$';
        decimal(len);
        crlf();
        if (len >= LARGE && target != null) {
            flush();
            writes++;
            target.write(ByteBuffer.wrap(v, off, len)); // the connection copies what the socket does not take
        } else {
            ensure(len);
            System.arraycopy(v, off, buf, size, len);
            size += len;
        }
        ensure(2);
        crlf();
    }

    /** A null bulk string ({@code _} in RESP3). */
    void nil() {
        raw(resp3 ? NULL3 : NIL);
    }

    /** A null array ({@code _} in RESP3). */
    void nilArray() {
        raw(resp3 ? NULL3 : NIL_ARRAY);
    }

    /** A map of {@code n} pairs (RESP2: an array of 2n). */
    void mapHeader(long n) {
        header(resp3 ? '%' : '*', resp3 ? n : 2 * n);
    }

    /** A set of {@code n} members (RESP2: an array). */
    void setHeader(long n) {
        header(resp3 ? '~' : '*', n);
    }

    /** An out-of-band push of {@code n} items (RESP2: an array). */
    void pushHeader(long n) {
        header(resp3 ? '>' : '*', n);
    }

    /** A double (RESP2: a bulk string), written as Redis writes it. */
    void dbl(double d) {
        String s = Numbers.formatDouble(d);
        if (resp3) {
            ensure(s.length() + 3);
            buf[size++] = ',';
            putAscii(s);
            crlf();
        } else {
            bulk(s);
        }
    }

    /** A boolean (RESP2: the integer 1 or 0). */
    void bool(boolean b) {
        if (resp3) {
            raw(b ? ascii("#t\r\n") : ascii("#f\r\n"));
        } else {
            raw(b ? ONE : ZERO);
        }
    }

    /** A verbatim text (RESP2: a bulk string), e.g. INFO's and CLIENT INFO's. */
    void verbatim(String text) {
        if (resp3) {
            byte[] b = ascii(text);
            header('=', b.length + 4L);
            ensure(b.length + 6);
            putAscii("txt:");
            System.arraycopy(b, 0, buf, size, b.length);
            size += b.length;
            crlf();
        } else {
            bulk(text);
        }
    }

    private void header(char type, long n) {
        ensure(24);
        buf[size++] = (byte) type;
        decimal(n);
        crlf();
    }

    void bulk(String ascii) {
        bulk(ascii(ascii));
    }

    private void putAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            buf[size++] = (byte) s.charAt(i);
        }
    }

    private void crlf() {
        buf[size++] = '\r';
        buf[size++] = '\n';
    }

    private void decimal(long v) {
        if (v >= 0 && v < 10) {
            buf[size++] = (byte) ('0' + v);
            return;
        }
        if (v == Long.MIN_VALUE) {
            byte[] m = ascii(Long.toString(v));
            System.arraycopy(m, 0, buf, size, m.length);
            size += m.length;
            return;
        }
        if (v < 0) {
            buf[size++] = '-';
            v = -v;
        }
        int digits = 1;
        for (long t = v; t >= 10; t /= 10) {
            digits++;
        }
        int end = size + digits;
        for (int i = end - 1; i >= size; i--) {
            buf[i] = (byte) ('0' + v % 10);
            v /= 10;
        }
        size = end;
    }

    private void ensure(int more) {
        if ((long) size + more > buf.length) {
            long want = Math.max((long) size + more, (long) buf.length * 2);
            if (want > Integer.MAX_VALUE - 16) {
                flush();
                want = Math.max(more, INITIAL);
            }
            buf = Arrays.copyOf(buf, (int) want);
            view = ByteBuffer.wrap(buf);
        }
    }
}
