import { prng } from './common.js';

/**
 * Text for the benchmark's tickets in the languages a desk meets (issue 11, item 8): words drawn from a
 * vocabulary per language with a Zipf distribution, so that a few words are in most tickets and most words in
 * few, as in real mail. Each vocabulary is a list of real words (the common ones, first) followed by a long
 * tail of made-up words built from the language's syllables, so that the rare end is large and has the
 * language's letters (accents, Cyrillic, Greek; Han and kana without spaces). bench:search draws its queries
 * from the same lists, by rank.
 */
export interface Language {
  code: string;
  /** Written without spaces between words (Chinese, Japanese). */
  cjk: boolean;
  /** By frequency rank: words[0] is the most common. */
  words: string[];
  /** Fixed phrases, one in many tickets: what a quoted-phrase search finds. */
  phrases: string[];
  first: string[];
  last: string[];
  /** Share of tickets in this language, in percent. */
  weight: number;
}

/** Words per language: the tail past the real words is made up. */
export const VOCABULARY_SIZE = 20_000;
/** Zipf exponent: 1 is the classic word-frequency law. */
const ZIPF_S = 1.05;

interface LanguageSpec extends Omit<Language, 'words'> {
  common: string;
  syllables: string;
}

const SPECS: LanguageSpec[] = [
  {
    code: 'en', cjk: false, weight: 40,
    common: 'the to and you a I of for is in it my on this that with we have not can be please account order invoice payment error login password printer refund delivery shipment page app help problem thanks email update server report customer subscription export screen browser',
    syllables: 'ar ble con der en fla gor ix lum mer nor pel quo ran sto tri ven wex zan bri cal dom est',
    phrases: ['password reset', 'credit card', 'out of stock', 'tracking number', 'error message', 'single sign on'],
    first: ['Ana', 'Ben', 'Chloé', 'Farah', 'Gustavo', 'Jasmine', 'Mateo', 'Priya', 'Rosa', 'Zoë', 'Renée', 'José'],
    last: ['Almeida', 'Walsh', 'García', 'López', 'Okafor', 'Rossi', 'Dubois', 'Nakamura', 'Yilmaz', 'Brontë'],
  },
  {
    code: 'da', cjk: false, weight: 12,
    common: 'og i jeg det at en til er på ikke med har vi for kan de min som hej tak faktura ordre betaling adgangskode fejl konto levering printer kunde side venlig hilsen spørgsmål hurtigt mødet søndag både nøgle græs',
    syllables: 'bl kø stæ gå rd sk ov ning hed lig sø fj æl ør bo ke ma la ti ve',
    phrases: ['med venlig hilsen', 'på forhånd tak', 'nulstil adgangskode', 'ingen levering'],
    first: ['Søren', 'Åse', 'Mette', 'Jørgen', 'Frederik', 'Ærø', 'Signe', 'Bjørn'],
    last: ['Jensen', 'Nielsen', 'Hansen', 'Sørensen', 'Møller', 'Kjær', 'Lærke', 'Bøgh'],
  },
  {
    code: 'et', cjk: false, weight: 10,
    common: 'ja on ei et see ma kui mis oli arve tellimus makse parool viga konto tarne printer klient leht palun aitäh tere küsimus kiiresti pühapäev õhtu võti jõulud töö',
    syllables: 'kõ pä ük lu mi sa ta õn äe ve ru ja kk ne li ma se pi to',
    phrases: ['lugupidamisega', 'parooli lähtestamine', 'tarne hilineb', 'arve number'],
    first: ['Tõnu', 'Mälle', 'Jüri', 'Külli', 'Tiit', 'Ülle', 'Mart', 'Piret'],
    last: ['Tamm', 'Saar', 'Kask', 'Mägi', 'Põder', 'Kõiv', 'Ilves', 'Lõhmus'],
  },
  {
    code: 'de', cjk: false, weight: 12,
    common: 'der die und ich nicht das ist zu ein mit bitte Rechnung Bestellung Zahlung Passwort Fehler Konto Lieferung Drucker Kunde Seite danke Grüße Frage schnell über Größe Straße München Änderung',
    syllables: 'schr über ge ung keit zu ber ein lich stra mü ß hä rö ta wal',
    phrases: ['mit freundlichen Grüßen', 'vielen Dank', 'Passwort zurücksetzen', 'keine Lieferung'],
    first: ['Jürgen', 'Günther', 'Käthe', 'Jörg', 'Lena', 'Sven', 'Uwe', 'Björn'],
    last: ['Müller', 'Schmidt', 'Schröder', 'Fischer', 'Weiß', 'Bäcker', 'Groß', 'Köhler'],
  },
  {
    code: 'ru', cjk: false, weight: 10,
    common: 'и в не на я что с по это заказ счёт оплата пароль ошибка аккаунт доставка принтер клиент страница спасибо здравствуйте вопрос срочно ёлка подписка возврат',
    syllables: 'про ста ни ко ва ло же ры ть ми ск ой ен ус да ре',
    phrases: ['с уважением', 'сброс пароля', 'номер заказа', 'нет доставки'],
    first: ['Дмитрий', 'Алёна', 'Иван', 'Наталья', 'Пётр', 'Ольга', 'Сергей', 'Юлия'],
    last: ['Петров', 'Иванова', 'Смирнов', 'Кузнецова', 'Соловьёв', 'Попова', 'Фёдоров'],
  },
  {
    code: 'el', cjk: false, weight: 6,
    common: 'και το να δεν η ο παραγγελία τιμολόγιο πληρωμή κωδικός σφάλμα λογαριασμός αποστολή εκτυπωτής πελάτης ευχαριστώ γεια ερώτηση επιστροφή',
    syllables: 'κα λο πρ ησ ου μα τι νε ρα σι δο πα ει γι ώ ή',
    phrases: ['με εκτίμηση', 'αριθμός παραγγελίας', 'επαναφορά κωδικού'],
    first: ['Ελένη', 'Γιώργος', 'Μαρία', 'Νίκος', 'Σοφία', 'Δημήτρης'],
    last: ['Παπαδόπουλος', 'Οικονόμου', 'Γεωργίου', 'Νικολάου', 'Αλεξίου'],
  },
  {
    code: 'zh', cjk: true, weight: 5,
    common: '的 是 我 不 了 订单 发票 付款 密码 错误 账户 快递 打印机 客户 页面 谢谢 您好 问题 退款 登录 服务器',
    syllables: '的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所民得经',
    phrases: ['无法登录', '重置密码', '订单号码'],
    first: ['伟', '芳', '娜', '秀英', '敏'],
    last: ['王', '李', '张', '刘', '陈'],
  },
  {
    code: 'ja', cjk: true, weight: 5,
    common: 'の に は を た が で 注文 請求書 支払い パスワード エラー アカウント 配送 プリンター お客様 ページ ありがとう 質問 返金 ログイン',
    syllables: 'あいうえおかきくけこさしすせそたちつてとアイウエオカキクケコサシスセソ日本語東京電話会社情報',
    phrases: ['ログインできません', 'パスワード再設定', '注文番号'],
    first: ['健二', '花子', 'さくら', '翔太'],
    last: ['田中', '佐藤', '鈴木', '高橋', '伊藤'],
  },
];

/** Made-up words from a language's syllables (characters, for CJK), deterministic. */
function tail(spec: LanguageSpec, known: Set<string>, count: number): string[] {
  const syllables = spec.cjk ? [...spec.syllables] : spec.syllables.split(' ');
  const rnd = prng(spec.code.charCodeAt(0) * 256 + spec.code.charCodeAt(1));
  const out: string[] = [];
  while (out.length < count) {
    const n = 2 + Math.floor(rnd() * (spec.cjk ? 2 : 3));
    const w = Array.from({ length: n }, () => syllables[Math.floor(rnd() * syllables.length)]!).join('');
    if (known.has(w)) continue;
    known.add(w);
    out.push(w);
  }
  return out;
}

export const LANGUAGES: Language[] = SPECS.map((spec) => {
  const common = spec.common.split(' ');
  const { common: _c, syllables: _s, ...rest } = spec;
  return { ...rest, words: [...common, ...tail(spec, new Set(common), VOCABULARY_SIZE - common.length)] };
});

/** Cumulative Zipf weights over VOCABULARY_SIZE ranks, normalised to 1. */
const ZIPF = (() => {
  const c = new Float64Array(VOCABULARY_SIZE);
  let sum = 0;
  for (let r = 0; r < VOCABULARY_SIZE; r++) c[r] = sum += 1 / (r + 1) ** ZIPF_S;
  for (let r = 0; r < VOCABULARY_SIZE; r++) c[r]! /= sum;
  return c;
})();

/** A Zipf-distributed rank from a uniform number in [0, 1). */
export function zipfRank(u: number): number {
  let lo = 0;
  let hi = VOCABULARY_SIZE - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (ZIPF[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const FILE_TYPES = ['pdf', 'png', 'jpg', 'docx', 'xlsx', 'txt', 'log', 'csv'];

/** Sentences, subjects, names and file names for one PRNG. */
export function makeWriter(rnd: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const totalWeight = LANGUAGES.reduce((n, l) => n + l.weight, 0);
  const word = (l: Language) => l.words[zipfRank(rnd())]!;
  const words = (l: Language, n: number): string => {
    const ws = Array.from({ length: n }, () => word(l));
    // About one sentence in eight carries one of the language's set phrases.
    if (rnd() < 0.12) ws.splice(Math.floor(rnd() * ws.length), 0, pick(l.phrases));
    return ws.join(l.cjk ? '' : ' ');
  };
  const sentence = (l: Language): string => {
    const s = words(l, 4 + Math.floor(rnd() * 9));
    return l.cjk ? `${s}。` : `${s[0]!.toUpperCase()}${s.slice(1)}.`;
  };
  return {
    language(): Language {
      let r = rnd() * totalWeight;
      for (const l of LANGUAGES) if ((r -= l.weight) < 0) return l;
      return LANGUAGES[0]!;
    },
    subject: (l: Language): string => {
      const s = words(l, 2 + Math.floor(rnd() * 4));
      return l.cjk ? s : `${s[0]!.toUpperCase()}${s.slice(1)}`;
    },
    body: (l: Language, sentences: number): string => Array.from({ length: sentences }, () => sentence(l)).join(l.cjk ? '' : ' '),
    name: (l: Language): string => (l.cjk ? `${pick(l.last)}${pick(l.first)}` : `${pick(l.first)} ${pick(l.last)}`),
    fileName: (l: Language): string => `${word(l)}${l.cjk ? '' : `_${Math.floor(rnd() * 10_000)}`}.${pick(FILE_TYPES)}`,
  };
}
