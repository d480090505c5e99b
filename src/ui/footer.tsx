/** Bottom line: key hints on the left, the status (draining, a message) on the right. */
import { Box, Text } from 'ink';
import type { StatusLine } from './dashboard-state.js';
import { fit } from './format.js';
import { FOOTER_HINTS } from './keymap.js';
import { useDashboard } from './store-context.js';

export interface FooterProps { status: StatusLine; width: number }

export function Footer({ status, width }: FooterProps) {
  // The run's own message may already say it drains ("draining", "stopping: … draining …"): once is enough.
  const message = status.message ?? '';
  const statusText = [status.draining && !/draining/i.test(message) ? 'draining…' : '', message].filter(Boolean).join(' ');
  // Drop hints from the end until the status fits beside them (the status wins: it is news).
  let hints = [...FOOTER_HINTS];
  const hintsWidth = (h: string[]): number => h.join('  ').length;
  while (hints.length > 0 && statusText && hintsWidth(hints) + 2 + [...statusText].length > width) hints = hints.slice(0, -1);
  const left = hintsWidth(hints);
  const right = fit(statusText, Math.max(0, width - left - (hints.length ? 2 : 0)));
  const gap = Math.max(0, width - left - [...right].length);
  return (
    <Box width={width} height={1} overflow="hidden" flexShrink={0}>
      <Text wrap="truncate-end">
        {hints.map((h, i) => {
          const sp = h.indexOf(' ');
          return (
            <Text key={h}>
              {i > 0 ? '  ' : ''}
              <Text bold color="cyan">{h.slice(0, sp)}</Text>
              <Text dimColor>{h.slice(sp)}</Text>
            </Text>
          );
        })}
        {right && <>{' '.repeat(gap)}<Text color={status.draining ? 'yellow' : undefined} bold={status.draining}>{right}</Text></>}
      </Text>
    </Box>
  );
}

export function ConnectedFooter({ width }: { width: number }) {
  const status = useDashboard((s) => s.status);
  return <Footer status={status} width={width} />;
}
