package org.epoll4j.net;

/**
 * The datagrams one {@code recvmmsg} call returned, as views over the endpoint's receive slots (nothing is
 * copied). Valid only during {@link DatagramHandler#onBatch}; the same object is reused for the next batch.
 */
public final class DatagramBatch {
    Datagram[] views;
    int size;

    DatagramBatch(Datagram[] views) {
        this.views = views;
    }

    /** How many datagrams the batch holds (coalesced GRO segments split into separate ones count each). */
    public int size() {
        return size;
    }

    /**
     * The {@code index}th datagram, in arrival order.
     *
     * @param index 0..size()-1
     * @return a view valid during this batch
     */
    public Datagram get(int index) {
        if (index < 0 || index >= size) {
            throw new IndexOutOfBoundsException("datagram " + index + " of a batch of " + size);
        }
        return views[index];
    }
}
