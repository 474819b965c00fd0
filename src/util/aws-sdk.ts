/**
 * The settings every AWS SDK client of the bot is built with (Data API, DMS, CloudWatch Logs): the region, the endpoint
 * when one is configured, maxAttempts 1 (the adapters retry, src/util/retry.ts, so every retry is counted), and — against a
 * loopback endpoint (the sandbox) with no AWS credentials in the environment — placeholder credentials: the sandbox does
 * not check signatures, and a first-time user needs no AWS account.
 */

/** Is `url` on this machine (localhost, 127.0.0.0/8, ::1)? */
export function isLoopback(url: string): boolean {
  try {
    const h = new URL(url).hostname;
    // 127.0.0.0/8 as an IPv4 literal only: a DNS name like 127.0.0.1.example.com can point anywhere
    return h === 'localhost' || h === '::1' || h === '[::1]' || /^127(\.\d{1,3}){3}$/.test(h);
  } catch {
    return false;
  }
}

export interface SdkClientConfig {
  region: string;
  maxAttempts: number;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
}

export function sdkClientConfig(region: string, endpoint: string | undefined, env: Readonly<Record<string, string | undefined>>): SdkClientConfig {
  const needsPlaceholder = endpoint !== undefined && isLoopback(endpoint) && !env.AWS_ACCESS_KEY_ID && !env.AWS_PROFILE;
  return {
    region,
    maxAttempts: 1,
    ...(endpoint !== undefined ? { endpoint } : {}),
    ...(needsPlaceholder ? { credentials: { accessKeyId: 'sandbox', secretAccessKey: 'sandbox' } } : {}),
  };
}
