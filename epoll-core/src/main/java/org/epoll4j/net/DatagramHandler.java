package org.epoll4j.net;

import org.epoll4j.EpollException;

/**
 * Receives what happens on a {@link DatagramEndpoint}. Every method runs on the endpoint's reactor thread and must
 * not block. Sends made from these methods are queued and leave in one {@code sendmmsg} when the handler returns
 * (or as soon as a batch is full).
 *
 * <p>Implement {@link #onDatagram} for one datagram at a time, or override {@link #onBatch} to see a whole
 * {@code recvmmsg} batch. The {@link Datagram} views, their {@link Datagram#data() data} buffers and the batch are
 * valid only during the call: copy what you keep.
 */
@FunctionalInterface
public interface DatagramHandler {
    /**
     * One datagram received whole.
     *
     * @param endpoint the endpoint
     * @param datagram a view over its receive slot, valid during this call
     * @throws Exception any failure; the endpoint is then closed and {@link #onClosed} sees it
     */
    void onDatagram(DatagramEndpoint endpoint, Datagram datagram) throws Exception;

    /**
     * One batch from a {@code recvmmsg} call. The default hands each datagram to {@link #onDatagram}, or to
     * {@link #onTruncated} if it was longer than its slot.
     *
     * @param endpoint the endpoint
     * @param batch    the batch, valid during this call
     * @throws Exception any failure; the endpoint is then closed
     */
    default void onBatch(DatagramEndpoint endpoint, DatagramBatch batch) throws Exception {
        for (int i = 0, n = batch.size(); i < n; i++) {
            Datagram d = batch.get(i);
            if (d.isTruncated()) {
                onTruncated(endpoint, d);
            } else {
                onDatagram(endpoint, d);
            }
        }
    }

    /**
     * A datagram longer than {@link DatagramConfig#maxDatagramSize()}: the kernel discarded its tail. Its
     * {@link Datagram#data()} holds the first bytes only. The default ignores it (it is counted in
     * {@link DatagramEndpoint#truncatedCount()}).
     *
     * @param endpoint the endpoint
     * @param datagram the truncated datagram
     */
    default void onTruncated(DatagramEndpoint endpoint, Datagram datagram) {
    }

    /**
     * A socket error that does not end the endpoint: an ICMP error reported on a connected socket
     * ({@code ECONNREFUSED}: nothing listens at the peer's port; {@code EHOSTUNREACH} ...), or a datagram the
     * kernel refused to send ({@code EMSGSIZE}, {@code EACCES} for broadcast without {@code SO_BROADCAST} ...; such
     * a datagram is dropped). The default ignores it.
     *
     * @param endpoint the endpoint, still open
     * @param error    the error, naming the call and the errno
     */
    default void onError(DatagramEndpoint endpoint, EpollException error) {
    }

    /**
     * The send queue crossed a watermark: {@code false} above the high one, {@code true} again at or below the low
     * one.
     *
     * @param endpoint the endpoint
     * @param writable whether sends are welcome again
     */
    default void onWritabilityChanged(DatagramEndpoint endpoint, boolean writable) {
    }

    /**
     * The endpoint closed: once, on the reactor thread.
     *
     * @param endpoint the endpoint
     * @param cause    {@code null} after {@link DatagramEndpoint#close()}, else what ended it (a handler's
     *                 exception, a fatal socket error, the reactor closing)
     */
    default void onClosed(DatagramEndpoint endpoint, Throwable cause) {
    }
}
