import t from 'tap';
import { expandVariables, unknownVariables, VARIABLES, type VariableValues } from '../../src/canned/variables.js';

const values: VariableValues = {
  'ticket.number': '123456',
  'ticket.subject': 'Printer {ticket.number} jam',
  'ticket.link': 'https://help.example/tickets/123456',
  'requester.name': 'Rita',
  'requester.email': 'rita@example.com',
  'agent.name': 'Sam',
  'agent.signature': 'Sam, 2nd line',
  'department.name': 'Support',
};

t.test('every variable expands to its value', async (t) => {
  for (const name of VARIABLES) t.same(expandVariables(`<{${name}}>`, values), { text: `<${values[name]}>`, unknown: [] }, name);
});

t.test('expansion: table of texts', async (t) => {
  const cases: Array<[string, string, string[]]> = [
    ['Hello {requester.name}, #{ticket.number}', 'Hello Rita, #123456', []],
    ['{ticket.number}{ticket.number}', '123456123456', []],
    ['Re: {ticket.subject}', 'Re: Printer {ticket.number} jam', []], // a value is not expanded again
    ['Dear {requester.nmae}', 'Dear {requester.nmae}', ['{requester.nmae}']],
    ['{a.b} {a.b} {c.d}', '{a.b} {a.b} {c.d}', ['{a.b}', '{c.d}']], // each unknown named once, in order
    ['{Ticket.Number}', '{Ticket.Number}', ['{Ticket.Number}']], // case matters: shown, not guessed
    ['{"a": 1} {1.5} {name} { ticket.number } {ticket.} {.x} {x.y.z} {', '{"a": 1} {1.5} {name} { ticket.number } {ticket.} {.x} {x.y.z} {', []],
    ['{{ticket.number}}', '{123456}', []],
    ['', '', []],
  ];
  for (const [text, expected, unknown] of cases) {
    t.same(expandVariables(text, values), { text: expected, unknown }, JSON.stringify(text));
    t.same(unknownVariables(text), unknown, `unknownVariables ${JSON.stringify(text)}`);
  }
});
