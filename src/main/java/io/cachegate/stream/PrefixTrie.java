package io.cachegate.stream;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Subscribers by prefix, in a character trie. Matching a name costs its length, whatever the number
 * of subscribers. Not thread-safe: owned by one {@link SubscriptionIndex}.
 */
final class PrefixTrie<S> {

  private static final class Node<S> {
    final Map<Character, Node<S>> children = new HashMap<>(4);
    final Set<S> subscribers = new HashSet<>(2);
    String prefix; // set where subscribers is non-empty
  }

  private final Node<S> root = new Node<>();

  void add(String prefix, S s) {
    Node<S> n = root;
    for (int i = 0; i < prefix.length(); i++) n = n.children.computeIfAbsent(prefix.charAt(i), c -> new Node<>());
    n.prefix = prefix;
    n.subscribers.add(s);
  }

  void remove(String prefix, S s) {
    remove(root, prefix, 0, s);
  }

  private boolean remove(Node<S> n, String prefix, int i, S s) {
    if (i == prefix.length()) {
      n.subscribers.remove(s);
    } else {
      Node<S> child = n.children.get(prefix.charAt(i));
      if (child == null) return false;
      if (remove(child, prefix, i + 1, s)) n.children.remove(prefix.charAt(i));
    }
    return n.subscribers.isEmpty() && n.children.isEmpty();
  }

  /** Every (subscribed prefix, subscriber) where the prefix is a prefix of {@code name} (or equal). */
  void prefixesOf(String name, BiConsumer<String, S> out) {
    Node<S> n = root;
    emit(n, out);
    for (int i = 0; i < name.length() && n != null; i++) {
      n = n.children.get(name.charAt(i));
      if (n != null) emit(n, out);
    }
  }

  /** Every (subscribed prefix, subscriber) where {@code name} is a proper prefix of the subscribed prefix. */
  void extensionsOf(String name, BiConsumer<String, S> out) {
    Node<S> n = root;
    for (int i = 0; i < name.length() && n != null; i++) n = n.children.get(name.charAt(i));
    if (n == null) return;
    Deque<Node<S>> stack = new ArrayDeque<>(n.children.values());
    while (!stack.isEmpty()) {
      Node<S> m = stack.pop();
      emit(m, out);
      stack.addAll(m.children.values());
    }
  }

  private static <S> void emit(Node<S> n, BiConsumer<String, S> out) {
    for (S s : n.subscribers) out.accept(n.prefix, s);
  }
}
