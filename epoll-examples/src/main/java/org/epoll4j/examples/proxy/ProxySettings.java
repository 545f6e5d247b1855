package org.epoll4j.examples.proxy;

import org.epoll4j.net.ConnectionConfig;
import org.epoll4j.net.RateLimit;
import org.epoll4j.net.Resolver;
import org.epoll4j.net.SockOpts;

import java.time.Duration;

/**
 * What every pair of the proxy shares: where the upstream is, how to reach it, and the limits.
 *
 * @param upstreamHost   the upstream's name or address literal
 * @param upstreamPort   the upstream's port
 * @param resolver       resolves {@code upstreamHost} off the loop, cached
 * @param connectTimeout how long an upstream connect may take
 * @param config         both connections' settings: watermarks and the idle check's period
 * @param idleTimeout    a pair that moves nothing either way for this long is closed (zero: never)
 * @param maxConnections most client connections relayed at once
 * @param rateLimit      each direction of each pair is read at most this fast, or {@code null} for no limit
 * @param upstreamOptions the socket options of upstream connections
 * @param splicePipeSize with {@code --splice}, each direction's pipe size (the pair's bytes move with splice(2)),
 *                       else 0 (copied through the write queues)
 */
record ProxySettings(String upstreamHost, int upstreamPort, Resolver resolver, Duration connectTimeout,
                     ConnectionConfig config, Duration idleTimeout, int maxConnections, RateLimit rateLimit,
                     SockOpts upstreamOptions, int splicePipeSize) {
}
