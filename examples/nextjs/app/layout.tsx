import type { ReactNode } from 'react';
import './styles.css';

export const metadata = { title: 'GPTMarket Generator: Next.js example' };

// System fonts only: no next/font, so the build fetches nothing.
export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
