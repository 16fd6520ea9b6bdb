// Generated container names in Docker's style: adjective_surname (a short list of notable
// scientists and engineers; the word lists are ours, the format is Docker's).
import { randomInt } from 'node:crypto';

const LEFT = [
  'admiring', 'adoring', 'affectionate', 'agitated', 'amazing', 'angry', 'awesome', 'beautiful', 'blissful', 'bold',
  'boring', 'brave', 'busy', 'charming', 'clever', 'compassionate', 'competent', 'confident', 'cool', 'cranky',
  'crazy', 'dazzling', 'determined', 'distracted', 'dreamy', 'eager', 'ecstatic', 'elastic', 'elated', 'elegant',
  'eloquent', 'epic', 'exciting', 'fervent', 'festive', 'flamboyant', 'focused', 'friendly', 'frosty', 'funny',
  'gallant', 'gifted', 'goofy', 'gracious', 'great', 'happy', 'hardcore', 'heuristic', 'hopeful', 'hungry',
  'infallible', 'inspiring', 'intelligent', 'interesting', 'jolly', 'jovial', 'keen', 'kind', 'laughing', 'loving',
  'lucid', 'magical', 'modest', 'musing', 'mystifying', 'naughty', 'nervous', 'nice', 'nifty', 'nostalgic',
  'objective', 'optimistic', 'peaceful', 'pedantic', 'pensive', 'practical', 'priceless', 'quirky', 'quizzical',
  'recursing', 'relaxed', 'reverent', 'romantic', 'sad', 'serene', 'sharp', 'silly', 'sleepy', 'stoic', 'strange',
  'stupefied', 'suspicious', 'sweet', 'tender', 'thirsty', 'trusting', 'unruffled', 'upbeat', 'vibrant', 'vigilant',
  'vigorous', 'wizardly', 'wonderful', 'xenodochial', 'youthful', 'zealous', 'zen',
];

const RIGHT = [
  'agnesi', 'albattani', 'allen', 'archimedes', 'ardinghelli', 'babbage', 'banach', 'bardeen', 'bartik', 'bassi',
  'bell', 'benz', 'bhabha', 'blackwell', 'bohr', 'booth', 'borg', 'bose', 'brahmagupta', 'brattain', 'brown',
  'carson', 'cerf', 'chandrasekhar', 'chatelet', 'clarke', 'cohen', 'curie', 'darwin', 'davinci', 'dijkstra',
  'dirac', 'edison', 'einstein', 'elion', 'engelbart', 'euclid', 'euler', 'faraday', 'fermat', 'fermi', 'feynman',
  'franklin', 'galileo', 'gauss', 'germain', 'goldberg', 'goodall', 'hamilton', 'hawking', 'heisenberg', 'hertz',
  'hodgkin', 'hofstadter', 'hopper', 'hypatia', 'jackson', 'jang', 'jennings', 'johnson', 'kalam', 'kepler',
  'khorana', 'knuth', 'kowalevski', 'lalande', 'lamarr', 'lamport', 'leakey', 'leavitt', 'lederberg', 'liskov',
  'lovelace', 'lumiere', 'mayer', 'mccarthy', 'mcclintock', 'meitner', 'mendel', 'merkle', 'mirzakhani', 'montalcini',
  'moore', 'morse', 'napier', 'nash', 'newton', 'nobel', 'noether', 'pare', 'pascal', 'pasteur', 'perlman', 'pike',
  'poincare', 'ramanujan', 'ride', 'ritchie', 'rosalind', 'sammet', 'shannon', 'shaw', 'shockley', 'sinoussi',
  'snyder', 'spence', 'stonebraker', 'sutherland', 'swanson', 'tesla', 'thompson', 'torvalds', 'turing', 'varahamihira',
  'visvesvaraya', 'volhard', 'wescoff', 'wiles', 'williams', 'wilson', 'wing', 'wozniak', 'wright', 'yalow', 'yonath',
];

/** A random name; `retry` > 0 appends a digit as Docker does after a collision. */
export function generateName(retry = 0): string {
  const name = `${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}`;
  return retry > 0 ? `${name}${randomInt(10)}` : name;
}

/** Docker's container name rule (a leading slash is allowed and dropped). */
export const VALID_NAME = /^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
