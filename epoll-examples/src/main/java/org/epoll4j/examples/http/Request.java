package org.epoll4j.examples.http;

/**
 * The parts of one request head the server acts on, as offsets into the byte array the head was parsed from (no
 * Strings are built for headers). One instance per reactor, reset for every request.
 */
final class Request {
    static final int GET = 1;
    static final int HEAD = 2;
    static final int POST = 3;
    /** Any other syntactically valid method: answered with 405. */
    static final int OTHER = 4;

    int method;
    int targetStart;
    int targetEnd;
    /** The minor version: 1 for HTTP/1.1, 0 for HTTP/1.0. */
    int minor;
    /** The Content-Length, or -1 if none was given. */
    long contentLength;
    boolean transferEncoding;
    boolean connectionClose;
    boolean connectionKeepAlive;
    int hostHeaders;
    boolean expectContinue;
    boolean expectOther;
    /** Offsets of the If-Modified-Since value; start is -1 if absent. */
    int ifModifiedSinceStart;
    int ifModifiedSinceEnd;

    void reset() {
        method = 0;
        targetStart = 0;
        targetEnd = 0;
        minor = 1;
        contentLength = -1;
        transferEncoding = false;
        connectionClose = false;
        connectionKeepAlive = false;
        hostHeaders = 0;
        expectContinue = false;
        expectOther = false;
        ifModifiedSinceStart = -1;
        ifModifiedSinceEnd = -1;
    }

    /** Whether the connection stays open after the response: HTTP/1.1 unless "close", 1.0 only if "keep-alive". */
    boolean keepAlive() {
        return !connectionClose && (minor == 1 || connectionKeepAlive);
    }
}
