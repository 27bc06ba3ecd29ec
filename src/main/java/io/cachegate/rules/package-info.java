/** Name templates ({@code user:{id}:profile}) and the rules built from them; plain, immutable logic. */
package io.cachegate.rules;
