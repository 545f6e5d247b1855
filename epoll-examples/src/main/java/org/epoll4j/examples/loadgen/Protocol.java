package org.epoll4j.examples.loadgen;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A request/response protocol the load generator speaks besides echo: writes requests and counts the complete
 * responses in whatever pieces the reads bring. One instance per connection (it keeps the parse state); used on the
 * connection's reactor thread only.
 */
interface Protocol {
    /** The most bytes one request takes. */
    int maxRequestBytes();

    /** Appends one request to {@code out}, which has at least {@link #maxRequestBytes()} bytes free. */
    void request(ByteBuffer out);

    /**
     * Consumes response bytes.
     *
     * @param in the bytes read; all of them are consumed
     * @return how many responses completed in them
     * @throws IOException if the bytes are not a valid response (the connection is then closed as failed)
     */
    int responses(ByteBuffer in) throws IOException;

    /** Responses that arrived but report a failure (HTTP status 4xx/5xx, a RESP error reply). */
    long failures();
}
