package org.epoll4j.net;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import java.net.Socket;
import java.security.KeyFactory;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A key manager that hands the engine its private keys as the SSLContext's own provider's keys ({@link KeyFactory}
 * of that provider), converted once per alias. Why: the JDK's key managers hold JDK key objects, and an engine with its
 * own native crypto (Conscrypt) asks for the key on every handshake, full or resumed, and parses a foreign key's PKCS#8
 * encoding into a new native key each time: on Conscrypt 2.5.2 that about doubled the cost of an RSA-2048 signature,
 * and cost about 0.6 ms of server CPU per full RSA handshake. Everything else is the wrapped manager's.
 */
final class ProviderKeyManager extends X509ExtendedKeyManager {
    private final X509ExtendedKeyManager delegate;
    private final Provider provider;
    /** Alias -> the provider's key; absent until first asked for (a key manager's aliases are its own business). */
    private final ConcurrentHashMap<String, PrivateKey> keys = new ConcurrentHashMap<>();

    private ProviderKeyManager(X509ExtendedKeyManager delegate, Provider provider) {
        this.delegate = delegate;
        this.provider = provider;
    }

    /**
     * Wraps {@code managers}' X.509 key manager when {@code provider} has key factories of its own (else returns
     * {@code managers} as they are: the JDK's engine takes any provider's keys without converting per handshake).
     */
    static javax.net.ssl.KeyManager[] wrap(javax.net.ssl.KeyManager[] managers, Provider provider) {
        if (managers == null || provider == null || (provider.getService("KeyFactory", "RSA") == null
                && provider.getService("KeyFactory", "EC") == null)) {
            return managers;
        }
        javax.net.ssl.KeyManager[] out = managers.clone();
        for (int i = 0; i < out.length; i++) {
            if (out[i] instanceof X509ExtendedKeyManager km) {
                out[i] = new ProviderKeyManager(km, provider);
            }
        }
        return out;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        PrivateKey k = alias == null ? null : keys.get(alias); // the hot path: one lookup per handshake
        if (k != null) {
            return k;
        }
        PrivateKey original = delegate.getPrivateKey(alias);
        if (original == null) {
            return null;
        }
        k = convert(original);
        PrivateKey raced = keys.putIfAbsent(alias, k);
        return raced != null ? raced : k;
    }

    /** The key as the provider's own, or {@code key} itself if the provider cannot take it (then the engine decides). */
    private PrivateKey convert(PrivateKey key) {
        if (provider.getService("KeyFactory", key.getAlgorithm()) == null || !"PKCS#8".equals(key.getFormat())) {
            return key;
        }
        byte[] encoded = key.getEncoded();
        if (encoded == null) {
            return key;
        }
        try {
            return KeyFactory.getInstance(key.getAlgorithm(), provider).generatePrivate(new PKCS8EncodedKeySpec(encoded));
        } catch (java.security.GeneralSecurityException | RuntimeException e) {
            return key; // the engine converts it per handshake, as it would have without this class
        } finally {
            java.util.Arrays.fill(encoded, (byte) 0);
        }
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return delegate.getClientAliases(keyType, issuers);
    }

    @Override
    public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
        return delegate.chooseClientAlias(keyType, issuers, socket);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return delegate.getServerAliases(keyType, issuers);
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return delegate.chooseServerAlias(keyType, issuers, socket);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return delegate.getCertificateChain(alias);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
        return delegate.chooseEngineClientAlias(keyType, issuers, engine);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return delegate.chooseEngineServerAlias(keyType, issuers, engine);
    }
}
