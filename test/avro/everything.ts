/** One Avro record with every Avro type and no logical types (avsc reads those as their underlying type). */
export const EVERYTHING_SCHEMA = {
  type: 'record',
  name: 'Everything',
  namespace: 'codegen.test',
  fields: [
    { name: 'flag', type: 'boolean' },
    { name: 'small', type: 'int' },
    { name: 'big', type: 'long' },
    { name: 'ratio', type: 'float' },
    { name: 'precise', type: 'double' },
    { name: 'text', type: 'string' },
    { name: 'raw', type: 'bytes' },
    { name: 'nothing', type: 'null' },
    { name: 'hash', type: { type: 'fixed', name: 'Hash', size: 4 } },
    { name: 'colour', type: { type: 'enum', name: 'Colour', symbols: ['RED', 'GREEN'] } },
    { name: 'maybe', type: ['null', 'long'] },
    { name: 'either', type: ['string', 'int'] },
    { name: 'list', type: { type: 'array', items: 'int' } },
    { name: 'lookup', type: { type: 'map', values: 'double' } },
    {
      name: 'child',
      type: { type: 'record', name: 'Child', fields: [{ name: 'id', type: 'string' }, { name: 'colour', type: 'Colour' }, { name: 'next', type: ['null', 'Child'] }] },
    },
    { name: 'children', type: { type: 'array', items: 'Child' } },
  ],
};
