// When tracing is on, and where spans go: the standard OTEL_* variables as the settings schema reads them.
import { describe, expect, it } from 'vitest';
import { tracesUrl } from '../../src/app/tracing';
import { loadSettings } from '../../src/config/settings';

describe('tracing settings', () => {
  it('when no OTLP endpoint is set, then tracing is off', () => {
    expect(tracesUrl(loadSettings({}))).toBeUndefined();
  });

  it('when OTEL_EXPORTER_OTLP_ENDPOINT is set, then spans go to its /v1/traces', () => {
    expect(tracesUrl(loadSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }))).toBe(
      'http://collector:4318/v1/traces',
    );
  });

  it('when the traces endpoint is set, then it is used as given, and OTEL_SDK_DISABLED keeps tracing off', () => {
    const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b/traces' };
    expect(tracesUrl(loadSettings(env))).toBe('http://b/traces');
    expect(tracesUrl(loadSettings({ ...env, OTEL_SDK_DISABLED: 'true' }))).toBeUndefined();
  });

  it('when export headers are given, then they are parsed as key=value pairs, and a malformed list is refused', () => {
    expect(
      loadSettings({ OTEL_EXPORTER_OTLP_HEADERS: 'api-key=abc%3D1, x-tenant=t1' }).OTEL_EXPORTER_OTLP_HEADERS,
    ).toEqual({
      'api-key': 'abc=1',
      'x-tenant': 't1',
    });
    expect(() => loadSettings({ OTEL_EXPORTER_OTLP_HEADERS: 'novalue' })).toThrow(/invalid environment/);
  });
});
